// Package bench is `beacon bench`: a load tool that opens many SSE and
// chat WebSocket clients against a running Beacon, publishes through the
// API (or the chat) at a rate, and reports what each delivery took. Each
// published item carries its own send time, so every delivery is measured
// where it arrives.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const userAgent = "beacon-bench"

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
	defer r.stop() // also when signing in fails: newRun started the poller
	if opts.SSEClients > 0 {
		r.sse = newTrack(rep.Run, opts.Messages)
	}
	if opts.ChatClients > 0 {
		r.chat = newTrack(rep.Run, opts.Messages)
		if r.jar, err = login(ctx, target, opts.Email, opts.Password, opts.ConnectTimeout); err != nil {
			return nil, err
		}
	}
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
		if rep.PublishSeconds > 0 {
			rep.PostsPerSecond = float64(rep.SSE.Published) / rep.PublishSeconds
		}
	}
	if r.chat != nil {
		rep.Chat = r.chat.report(opts.ChatClients, published)
	}
	rep.Server = procs.report(rep)
	return rep, nil
}

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
	rep := &Report{Target: target.String(), Run: hex.EncodeToString(id), Messages: opts.Messages, Rate: opts.Rate, Posters: opts.Publishers}
	if opts.Batch > 1 {
		rep.Batch = opts.Batch
	}
	if opts.Duration > 0 {
		rep.For = opts.Duration.String()
	}
	return r, rep, nil
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
