package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

const (
	// defaultRetry is the reconnect delay until the stream names one, as
	// a browser's.
	defaultRetry = 2 * time.Second
	// minRetry and maxRetry bound the delay a server asks for: a stream
	// that closes at once must not make a hot loop, nor a typo a day's wait.
	minRetry = 250 * time.Millisecond
	maxRetry = time.Minute
	// maxRetryAfter bounds a 429's Retry-After.
	maxRetryAfter = 10 * time.Minute
	// idleTimeout drops a stream that has sent nothing, not even a ping
	// (every 15s), for this long: the connection is dead without knowing.
	idleTimeout = time.Minute
	// headerTimeout bounds the wait for the answer's headers.
	headerTimeout = 30 * time.Second
)

var (
	// errIdle ends a connection that went silent.
	errIdle = fmt.Errorf("nothing received for %v", idleTimeout)
	// errRedirect is a redirect not followed; trying again would not help.
	errRedirect = errors.New("subscribe: refusing a redirect")
)

// follower follows one stream across reconnects and hands every event to
// handle, in order, once.
type follower struct {
	client *http.Client
	stream *url.URL
	token  string
	lastID string        // resumed from with Last-Event-ID
	retry  time.Duration // the delay before a reconnect
	log    *slog.Logger
	handle func(context.Context, sseEvent) error
}

// tryAgain is a failure worth trying again after wait.
type tryAgain struct {
	wait time.Duration
	err  error
}

func (e *tryAgain) Error() string { return e.err.Error() }
func (e *tryAgain) Unwrap() error { return e.err }

func newFollower(opts subscribeOptions, log *slog.Logger, handle func(context.Context, sseEvent) error) *follower {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = headerTimeout
	return &follower{
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 10 {
					return fmt.Errorf("%w: the tenth in a row", errRedirect)
				}
				// The same rule as for the URL given: a redirect must not
				// take the token onto the network unencrypted.
				if req.URL.Scheme == "http" && !opts.insecure && !loopbackHost(req.URL.Hostname()) {
					return fmt.Errorf("%w to http://%s: the token would travel unencrypted (--insecure allows it)", errRedirect, req.URL.Host)
				}
				return nil
			},
		},
		stream: opts.stream,
		token:  opts.token,
		lastID: opts.lastID,
		retry:  defaultRetry,
		log:    log,
		handle: handle,
	}
}

// run follows the stream until ctx ends (nil) or a failure that trying
// again cannot mend.
func (f *follower) run(ctx context.Context) error {
	who := "a visitor"
	if f.token != "" {
		who = "the token's user"
	}
	f.log.Info("subscribe: following", "url", f.stream.Redacted(), "as", who)
	for {
		err := f.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var again *tryAgain
		if !errors.As(err, &again) {
			return err
		}
		f.log.Warn("subscribe: reconnecting", "in", again.wait.Round(time.Millisecond), "last_event_id", f.lastID, "err", again.err)
		t := time.NewTimer(again.wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// follow makes one connection and reads it until it ends.
func (f *follower) follow(ctx context.Context) error {
	// conn is the connection's own: a silence ends it, and nothing else.
	conn, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(conn, http.MethodGet, f.stream.String(), nil)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// A refusal's message then comes as JSON rather than a page.
	req.Header.Set("Accept", "text/event-stream, application/json;q=0.1")
	req.Header.Set("Cache-Control", "no-cache")
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	if f.lastID != "" {
		req.Header.Set("Last-Event-ID", f.lastID)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, errRedirect) {
			return err
		}
		return &tryAgain{f.delay(), err}
	}
	defer resp.Body.Close()
	if err := f.checkAnswer(resp); err != nil {
		return err
	}
	f.log.Info("subscribe: connected", "last_event_id", f.lastID)

	idle := time.AfterFunc(idleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	p := newSSEParser(activityReader{resp.Body, func() { idle.Reset(idleTimeout) }}, f.lastID)
	for {
		ev, err := p.next()
		f.lastID = p.lastID
		if p.retry >= 0 {
			f.retry = min(max(p.retry, minRetry), maxRetry)
		}
		if err != nil {
			if cause := context.Cause(conn); errors.Is(cause, errIdle) {
				err = cause
			} else if err == io.EOF {
				err = errors.New("the server ended the stream")
			} else if errors.Is(err, bufio.ErrTooLong) {
				return fmt.Errorf("subscribe: a line of the stream is over %d bytes: is %s a Beacon?", maxSSELine, f.stream.Redacted())
			}
			return &tryAgain{f.delay(), err}
		}
		// What the handler takes (an --exec command) is no silence of the
		// stream's.
		idle.Stop()
		if err := f.handle(ctx, ev); err != nil {
			return err
		}
		idle.Reset(idleTimeout)
	}
}

// delay is the wait before the next connection: the stream's retry, with
// up to a fifth more so that many clients do not come back at once.
func (f *follower) delay() time.Duration {
	return f.retry + rand.N(f.retry/5+1)
}

// activityReader calls seen after every read that returned bytes.
type activityReader struct {
	r    io.Reader
	seen func()
}

func (a activityReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.seen()
	}
	return n, err
}
