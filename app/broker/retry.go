package broker

import "time"

// Bounds of the wait before a failed load is retried.
const (
	minRetry = 500 * time.Millisecond
	maxRetry = 30 * time.Second
)

// retry paces the retries of a hub's failed loads. After a failure nothing
// may wake the hub again for hours (the next post), so it wakes itself,
// backing off while the database stays down.
type retry struct {
	c    <-chan time.Time // fires when it is time to retry; nil when all is well
	wait time.Duration
}

// after records how the last load went.
func (r *retry) after(err error) {
	if err == nil {
		r.c, r.wait = nil, 0
		return
	}
	r.wait = min(max(2*r.wait, minRetry), maxRetry)
	r.c = time.After(r.wait)
}
