// Package bench is `beacon bench`: a load tool that opens many SSE and
// chat WebSocket clients against a running Beacon, publishes through the
// API (or the chat) at a rate, and reports what each delivery took. Each
// published item carries its own send time, so every delivery is measured
// where it arrives.
package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const userAgent = "beacon-bench"

// Options describe one run. Zero values take the defaults noted.
type Options struct {
	URL string // the server, default http://127.0.0.1:8080
	// PublishURL is where notifications are posted, default URL: another
	// instance on the same database measures delivery across instances.
	// Several, comma-separated, take the posts in turn: it spreads the
	// publishing over instances.
	PublishURL  string
	AllowRemote bool // allow a target that is not a loopback address

	SSEClients  int // notification streams to open
	ChatClients int // chat sockets to open (receivers; senders come on top)
	// Fields is what the streams ask for (the stream's ?fields=): "html",
	// the default, as the feed page does; "json"; or "all", no parameter.
	Fields string
	// Readers is how the streams are read: "poll", the default on Linux,
	// a few goroutines each waiting on an epoll set of many streams
	// (sse_poll_linux.go); "goroutines", one goroutine per stream, as
	// most clients are written.
	Readers string

	Messages int     // items to publish to each kind of client
	Rate     float64 // items per second; 0 sends them all at once

	Settle  time.Duration // wait after connecting, before publishing
	Hold    time.Duration // longest wait for deliveries after the last publish, default 5s
	Timeout time.Duration // bound on the whole run, default 10m

	ConnectConcurrency int           // connections being opened at once, default 200
	ConnectTimeout     time.Duration // per connection, default 10s
	Publishers         int           // concurrent API calls, default 8

	Token           string // API token for POST /api/notifications
	Email, Password string // a user to sign in as for the chat
	Room            string // chat room, default "bench"
	ChatSenders     int    // chat sockets that send, default one per 5 messages/s

	PID int // a local server's pid: report its RSS and CPU time

	// Storm publishes Messages first, then opens every SSE client resuming
	// from before them, as browsers do after a deploy (storm.go).
	Storm bool
	// MetricsToken reads the server's /metrics around a storm, for the
	// database statements it cost.
	MetricsToken string

	Log *slog.Logger // progress; nil: none
}

func (o *Options) setDefaults() {
	if o.URL == "" {
		o.URL = "http://127.0.0.1:8080"
	}
	if o.Fields == "" {
		o.Fields = "html"
	}
	if o.Readers == "" {
		o.Readers = defaultReaders
	}
	if o.Hold <= 0 {
		o.Hold = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.ConnectConcurrency <= 0 {
		o.ConnectConcurrency = 200
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Publishers <= 0 {
		o.Publishers = 8
	}
	if o.Room == "" {
		o.Room = "bench"
	}
	if o.ChatSenders <= 0 {
		o.ChatSenders = max(1, int(math.Ceil(o.Rate/5)))
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

func (o *Options) check() error {
	switch {
	case o.SSEClients < 0 || o.ChatClients < 0 || o.Messages < 0 || o.Rate < 0:
		return errors.New("bench: counts and the rate must not be negative")
	case o.Fields != "html" && o.Fields != "json" && o.Fields != "all":
		return fmt.Errorf("bench: --fields must be html, json or all, not %q", o.Fields)
	case o.Readers != "poll" && o.Readers != "goroutines":
		return fmt.Errorf("bench: --readers must be poll or goroutines, not %q", o.Readers)
	case o.Readers == "poll" && defaultReaders != "poll":
		return errors.New("bench: --readers poll needs Linux's epoll")
	case o.SSEClients == 0 && o.ChatClients == 0:
		return errors.New("bench: nothing to do: give --sse N and/or --chat N")
	case o.SSEClients > 0 && o.Messages > 0 && o.Token == "":
		return errors.New("bench: publishing notifications needs an API token (--token or BEACON_TOKEN; beacon token create EMAIL)")
	case o.ChatClients > 0 && (o.Email == "" || o.Password == ""):
		return errors.New("bench: chat clients need a user to sign in as (--email, and BEACON_PASSWORD)")
	}
	return nil
}

// run is one run's state.
type run struct {
	opts   Options
	target *url.URL
	// publishTo is where notifications are posted, in turn: target, or
	// PublishURL's.
	publishTo []*url.URL
	jar       http.CookieJar

	sse, chat *track
	senders   []*chatSender

	resumeFrom string // the Last-Event-ID every stream sends (--storm)

	// poller reads the SSE streams (Options.Readers "poll"); nil: each
	// stream has a goroutine.
	poller *ssePoller

	stopping atomic.Bool
	readers  sync.WaitGroup
	mu       sync.Mutex
	conns    []io.Closer
}

// Run connects, publishes, waits for the deliveries and reports. It stops
// by itself: connecting is bounded by ConnectTimeout per client, waiting
// by Hold, and everything by Timeout. A run cut short by the timeout (or
// ctx) still reports what it saw, with TimedOut set.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.setDefaults()
	target, err := parseTarget(ctx, opts.URL, opts.AllowRemote)
	if err != nil {
		return nil, err
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.Storm {
		return storm(ctx, opts, target)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r, rep, err := newRun(ctx, opts, target)
	if err != nil {
		return nil, err
	}
	if opts.SSEClients > 0 {
		r.sse = newTrack(rep.Run, opts.Messages)
	}
	if opts.ChatClients > 0 {
		r.chat = newTrack(rep.Run, opts.Messages)
		if r.jar, err = login(ctx, target, opts.Email, opts.Password, opts.ConnectTimeout); err != nil {
			return nil, err
		}
	}
	defer r.stop()
	log := opts.Log
	clientCPU := selfCPU()

	procs := &serverProcs{pid: opts.PID}
	if err := procs.sample(&procs.before); err != nil {
		return nil, err
	}

	began := time.Now()
	log.Info("bench: connecting", "target", target.String(), "sse", opts.SSEClients, "chat", opts.ChatClients, "at_once", opts.ConnectConcurrency)
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	rep.ConnectSeconds = time.Since(began).Seconds()
	log.Info("bench: connected", "seconds", round(rep.ConnectSeconds), "settle", opts.Settle)
	sleep(ctx, opts.Settle)
	_ = procs.sample(&procs.connected)

	published, publishCPU := time.Now(), selfCPU()
	if opts.Messages > 0 {
		log.Info("bench: publishing", "messages", opts.Messages, "rate", rateString(opts.Rate))
		r.publish(ctx, published)
		rep.PublishSeconds = time.Since(published).Seconds()
		log.Info("bench: published; waiting for deliveries", "seconds", round(rep.PublishSeconds), "hold", opts.Hold)
		r.await(ctx, opts.Hold)
	}
	_ = procs.sample(&procs.end)
	rep.ClientCPURunSeconds = selfCPU() - publishCPU // over the same span as the server's
	r.stop()
	rep.DurationSeconds = time.Since(began).Seconds()
	rep.TimedOut = ctx.Err() != nil
	rep.ClientCPUSeconds = selfCPU() - clientCPU
	if r.sse != nil {
		rep.SSE = r.sse.report(opts.SSEClients, published)
	}
	if r.chat != nil {
		rep.Chat = r.chat.report(opts.ChatClients, published)
	}
	rep.Server = procs.report(rep)
	return rep, nil
}

// connect opens every client, ConnectConcurrency at a time, and returns
// when each has connected or failed. A client that connected keeps its
// goroutine, reading, until stop.
func (r *run) connect(ctx context.Context) error {
	sem := make(chan struct{}, r.opts.ConnectConcurrency)
	var tried sync.WaitGroup
	// dial returns the client's read loop, or nil when it failed; the
	// goroutine that connected it becomes its reader.
	attempt := func(dial func() (read func())) {
		tried.Add(1)
		r.readers.Go(func() {
			sem <- struct{}{}
			read := dial()
			<-sem
			tried.Done()
			if read != nil {
				read()
			}
		})
	}
	if r.chat != nil {
		// Senders first, so that a refused sign-in shows before thousands
		// of receivers try.
		d := r.chatDialer()
		d.WriteBufferPool = nil
		for range r.opts.ChatSenders {
			conn, err := r.dialChat(ctx, d)
			if err != nil {
				return fmt.Errorf("bench: open a chat sender: %w", err)
			}
			if !r.hold(conn) {
				return ctx.Err()
			}
			r.senders = append(r.senders, &chatSender{conn: conn})
			r.readers.Go(func() { r.readChat(r.chat, nil, conn) })
		}
		d = r.chatDialer()
		for range r.opts.ChatClients {
			attempt(func() func() {
				conn, err := r.dialChat(ctx, d)
				if err != nil {
					r.chat.connectFailed(err)
					return nil
				}
				if !r.hold(conn) {
					return nil
				}
				rc := r.chat.newReceiver()
				return func() { r.readChat(r.chat, rc, conn) }
			})
		}
	}
	if r.sse != nil {
		for range r.opts.SSEClients {
			attempt(func() func() {
				s, err := r.dialSSE(ctx)
				if err != nil {
					r.sse.connectFailed(err)
					return nil
				}
				if !r.hold(s.conn) {
					return nil
				}
				rc := r.sse.newReceiver()
				return func() { r.follow(s, r.sse, r.deliveries(r.sse, rc)) }
			})
		}
	}
	tried.Wait()
	return nil
}

// hold registers conn to be closed at stop; after stop it closes conn at
// once and reports false.
func (r *run) hold(c io.Closer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping.Load() {
		c.Close()
		return false
	}
	r.conns = append(r.conns, c)
	return true
}

// stop closes every connection and waits for the readers to end.
func (r *run) stop() {
	r.mu.Lock()
	r.stopping.Store(true)
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	r.readers.Wait()
}

// publish sends every item on schedule, notifications and chat messages
// side by side.
func (r *run) publish(ctx context.Context, start time.Time) {
	var wg sync.WaitGroup
	if r.sse != nil {
		api := newAPIPublisher(r)
		defer api.client.CloseIdleConnections()
		wg.Go(func() {
			schedule(ctx, r.opts.Messages, r.opts.Rate, start, r.opts.Publishers, func(_, seq int, at time.Time) {
				api.publish(ctx, r.sse, seq, at)
			})
		})
	}
	if r.chat != nil {
		wg.Go(func() {
			schedule(ctx, r.opts.Messages, r.opts.Rate, start, len(r.senders), func(w, seq int, at time.Time) {
				r.senders[w].publish(r.chat, seq, at, r.opts.ConnectTimeout)
			})
		})
	}
	wg.Wait()
}

// await waits until every connected client has every published item, or
// hold has passed.
func (r *run) await(ctx context.Context, hold time.Duration) {
	deadline := time.NewTimer(hold)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if r.sse.complete() && r.chat.complete() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// complete reports whether every receiver has had every published item.
func (t *track) complete() bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	want := 0
	for _, ok := range t.published {
		if ok {
			want++
		}
	}
	want *= len(t.receivers)
	t.mu.Unlock()
	return t.unique.Load() >= int64(want)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func newBufReader(conn net.Conn) *bufio.Reader { return bufio.NewReaderSize(conn, 4096) }

// newRun is a run's state and its report, named by a random marker.
func newRun(ctx context.Context, opts Options, target *url.URL) (*run, *Report, error) {
	publishTo, err := publishTargets(ctx, opts, target)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	r := &run{opts: opts, target: target, publishTo: publishTo}
	if opts.Readers == "poll" && opts.SSEClients > 0 {
		if r.poller, err = newSSEPoller(pollLoops); err != nil {
			return nil, nil, fmt.Errorf("bench: epoll: %w", err)
		}
		for _, l := range r.poller.loops {
			r.readers.Go(func() {
				l.run(r.stopping.Load, func() { r.sse.disconnects.Add(1) })
			})
		}
	}
	return r, &Report{Target: target.String(), Run: hex.EncodeToString(id), Messages: opts.Messages, Rate: opts.Rate}, nil
}

// publishTargets are where notifications are posted, in turn: target, or
// each of PublishURL's.
func publishTargets(ctx context.Context, opts Options, target *url.URL) ([]*url.URL, error) {
	if opts.PublishURL == "" {
		return []*url.URL{target}, nil
	}
	var to []*url.URL
	for _, s := range strings.Split(opts.PublishURL, ",") {
		u, err := parseTarget(ctx, strings.TrimSpace(s), opts.AllowRemote)
		if err != nil {
			return nil, err
		}
		to = append(to, u)
	}
	return to, nil
}
