package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// schedule runs send(seq, at) for seq 0..n-1, each no earlier than
// start + seq/rate (all at once when rate is 0), on workers goroutines,
// and starts none after until (zero: no end but n). A worker that falls
// behind sends at once: "behind schedule" is measured, not hidden.
func schedule(ctx context.Context, n int, rate float64, start, until time.Time, workers int, send func(worker, seq int, at time.Time)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			timer := time.NewTimer(0)
			defer timer.Stop()
			for {
				seq := int(next.Add(1) - 1)
				if seq >= n || ctx.Err() != nil {
					return
				}
				at := start
				if rate > 0 {
					at = start.Add(time.Duration(float64(seq) / rate * float64(time.Second)))
				}
				if !until.IsZero() && (at.After(until) || time.Now().After(until)) {
					return
				}
				if d := time.Until(at); d > 0 {
					timer.Reset(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				send(w, seq, at)
			}
		})
	}
	wg.Wait()
}

// apiPublisher posts notifications through the JSON API with a token.
type apiPublisher struct {
	bases  []string // the targets' base URLs, taken in turn by sequence number (by call, in batches)
	token  string
	client *http.Client
}

// Where notifications are posted, below a target's base URL.
const (
	postPath  = "/api/notifications"
	batchPath = "/api/notifications/batch"
)

func newAPIPublisher(r *run) *apiPublisher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = r.opts.Publishers
	bases := make([]string, len(r.publishTo))
	for i, u := range r.publishTo {
		bases[i] = u.String()
	}
	return &apiPublisher{
		bases:  bases,
		token:  r.opts.Token,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
}

func (p *apiPublisher) publish(ctx context.Context, t *track, seq int, scheduled time.Time) {
	sent := time.Now()
	body := []byte(`{"title":"` + marker(t.run, seq, scheduled, sent) + `","body":"beacon bench","level":"info"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.bases[seq%len(p.bases)]+postPath, bytes.NewReader(body))
	if err != nil {
		t.publishFailed(err)
		return
	}
	if p.post(ctx, t, req, sent, postPath) {
		t.markPublished(seq)
	}
}

// publishBatch posts items seq to seq+n-1 in one call of the batch
// endpoint, each with its own marker. The call is scheduled as its first
// item is.
func (p *apiPublisher) publishBatch(ctx context.Context, t *track, call, seq, n int, scheduled time.Time) {
	sent := time.Now()
	var b bytes.Buffer
	b.WriteString(`{"notifications":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"title":"` + marker(t.run, seq+i, scheduled, sent) + `","body":"beacon bench","level":"info"}`)
	}
	b.WriteString(`]}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.bases[call%len(p.bases)]+batchPath, &b)
	if err != nil {
		t.publishFailed(err)
		return
	}
	if p.post(ctx, t, req, sent, batchPath) {
		for i := range n {
			t.markPublished(seq + i)
		}
	}
}

// post makes one API call and records its time; it reports whether the
// server took what it carried.
func (p *apiPublisher) post(ctx context.Context, t *track, req *http.Request, sent time.Time, what string) bool {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			t.publishFailed(err)
		}
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	t.publish.record(time.Since(sent))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized {
			hint = " (check --token or BEACON_TOKEN)"
		}
		t.publishFailed(fmt.Errorf("POST %s: %s%s", what, resp.Status, hint))
		return false
	}
	return true
}

// chatSender writes messages on its own socket; its reader counts the
// frames the server refused. gorilla allows one writer beside one reader.
type chatSender struct {
	conn *websocket.Conn
	buf  []byte
}

func (s *chatSender) publish(t *track, seq int, scheduled time.Time, wait time.Duration) {
	sent := time.Now()
	s.buf = append(s.buf[:0], `{"type":"message","body":"`...)
	s.buf = append(s.buf, marker(t.run, seq, scheduled, sent)...)
	s.buf = append(s.buf, `"}`...)
	_ = s.conn.SetWriteDeadline(sent.Add(wait))
	if err := s.conn.WriteMessage(websocket.TextMessage, s.buf); err != nil {
		t.publishFailed(fmt.Errorf("chat send: %w", err))
		return
	}
	t.publish.record(time.Since(sent))
	t.markPublished(seq)
}

// rateString says a rate for the log.
func rateString(rate float64) string {
	if rate <= 0 {
		return "at once"
	}
	return "at " + strconv.FormatFloat(rate, 'g', -1, 64) + "/s"
}
