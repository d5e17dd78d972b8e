package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The reconnect storm (--storm): what a deploy does to a server. Every
// notification is published first, with no client connected; then every
// SSE client connects at once with Last-Event-ID set to the position just
// before them, as browsers coming back do. It reports how long until every
// client had every one it missed, and, with --metrics-token, how many
// database statements the storm cost the server.

// stormMarkerTitle names the notification whose id is the resume cursor.
const stormMarkerTitle = "storm start"

// StormReport is what a storm measured.
type StormReport struct {
	ResumeFrom int64 `json:"resume_from"` // the Last-Event-ID every client sent
	Missed     int   `json:"missed"`      // notifications published before the clients came back
	CaughtUp   int   `json:"caught_up"`   // clients that received every one
	// CaughtUpSeconds is from the first connect to the moment the last
	// client had every missed notification; 0 when some never did.
	CaughtUpSeconds float64     `json:"caught_up_seconds"`
	CatchUp         Percentiles `json:"catch_up"` // per client, from the first connect
	Resets          int64       `json:"resets"`   // clients told to reload instead
	// DBQueries is the server's beacon_db_queries_total over the storm,
	// from when the server was quiet after publishing to when every client
	// had caught up (or the hold ended); -1 without --metrics-token.
	DBQueries       int64 `json:"db_queries"`
	DBQueriesBefore int64 `json:"db_queries_before,omitempty"`
	DBQueriesAfter  int64 `json:"db_queries_after,omitempty"`
	// ServerCPUSeconds is the server's CPU time over the storm (--pid).
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
}

// storm is Run for --storm.
func storm(ctx context.Context, opts Options, target *url.URL) (*Report, error) {
	switch {
	case opts.ChatClients > 0:
		return nil, errors.New("bench: --storm resumes notification streams: give --sse N, not --chat")
	case opts.SSEClients == 0 || opts.Messages == 0:
		return nil, errors.New("bench: --storm needs --sse N clients and --messages M to miss")
	}
	// What the clients miss is published before they come back: as fast
	// as the publishers go.
	opts.Rate = 0
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r, rep, err := newRun(ctx, opts, target)
	if err != nil {
		return nil, err
	}
	r.sse = newTrack(rep.Run, opts.Messages)
	defer r.stop()
	clientCPU := selfCPU()
	log := opts.Log
	metrics := &metricsReader{url: target.String() + "/metrics", token: opts.MetricsToken}
	procs := &serverProcs{pid: opts.PID}
	if err := procs.sample(&procs.before); err != nil {
		return nil, err
	}
	st := &StormReport{Missed: opts.Messages, DBQueries: -1}
	rep.Storm = st

	api := newAPIPublisher(r)
	defer api.client.CloseIdleConnections()
	if st.ResumeFrom, err = api.postStart(ctx, r.sse.run); err != nil {
		return nil, err
	}
	published := time.Now()
	log.Info("bench: storm: publishing what the clients will miss", "messages", opts.Messages, "after", st.ResumeFrom)
	r.publish(ctx, published)
	rep.PublishSeconds = time.Since(published).Seconds()
	if metrics.token != "" {
		if st.DBQueriesBefore, err = metrics.quiet(ctx); err != nil {
			return nil, err
		}
	}
	_ = procs.sample(&procs.connected)

	want, _, _ := r.sse.tally()
	r.resumeFrom = strconv.FormatInt(st.ResumeFrom, 10)
	c := &stormClients{want: want}
	began := time.Now()
	log.Info("bench: storm: clients resuming", "clients", opts.SSEClients, "from", r.resumeFrom, "at_once", opts.ConnectConcurrency)
	r.connectStorm(ctx, c, began)
	rep.ConnectSeconds = time.Since(began).Seconds()
	c.await(ctx, opts.Hold)
	if metrics.token != "" {
		if st.DBQueriesAfter, err = metrics.read(ctx); err != nil {
			return nil, err
		}
		st.DBQueries = st.DBQueriesAfter - st.DBQueriesBefore
	}
	_ = procs.sample(&procs.end)
	r.stop()
	rep.DurationSeconds = time.Since(published).Seconds()
	rep.TimedOut = ctx.Err() != nil
	rep.ClientCPUSeconds = selfCPU() - clientCPU
	rep.SSE = r.sse.report(opts.SSEClients, published)
	st.CaughtUp = int(c.caughtUp.Load())
	st.CatchUp = c.catchUp.percentiles()
	st.Resets = c.resets.Load()
	if st.CaughtUp == rep.SSE.Connected && st.CaughtUp == opts.SSEClients {
		st.CaughtUpSeconds = float64(c.last.Load()) / 1e9
	}
	if rep.Server = procs.report(rep); rep.Server != nil {
		st.ServerCPUSeconds = rep.Server.CPURunSeconds
	}
	return rep, nil
}

// stormClients is what the resuming clients share: how many published
// notifications each must have, and when each had them.
type stormClients struct {
	want     int
	caughtUp atomic.Int64
	last     atomic.Int64 // nanoseconds from the first connect to the last catch-up
	resets   atomic.Int64
	catchUp  histogram

	mu         sync.Mutex
	connecting bool // some clients are still connecting
	pending    int  // clients connected that have not caught up
	done       chan struct{}
	closeDone  sync.Once // done: every client connected has caught up
}

// connectStorm opens every client, ConnectConcurrency at a time, each
// resuming from r.resumeFrom, and returns once each has connected or
// failed; the readers go on until stop.
func (r *run) connectStorm(ctx context.Context, c *stormClients, began time.Time) {
	c.done, c.connecting = make(chan struct{}), true
	sem := make(chan struct{}, r.opts.ConnectConcurrency)
	var tried sync.WaitGroup
	for range r.opts.SSEClients {
		tried.Add(1)
		r.readers.Go(func() {
			sem <- struct{}{}
			s, err := r.dialSSE(ctx)
			<-sem
			if err != nil {
				r.sse.connectFailed(err)
				tried.Done()
				return
			}
			if !r.hold(s.conn) {
				tried.Done()
				return
			}
			rc := r.sse.newReceiver()
			c.mu.Lock()
			c.pending++
			c.mu.Unlock()
			tried.Done()
			r.follow(s, r.sse, r.stormDeliveries(c, rc, began))
		})
	}
	tried.Wait()
	c.mu.Lock()
	c.connecting = false
	if c.pending == 0 {
		c.closeDone.Do(func() { close(c.done) })
	}
	c.mu.Unlock()
}

// stormDeliveries records what one resumed stream delivers.
func (r *run) stormDeliveries(c *stormClients, rc *receiver, began time.Time) func(sseFrame) {
	t, have := r.sse, 0
	return func(f sseFrame) {
		if !f.Dispatch {
			return
		}
		if bytes.Equal(f.Type, resetType) {
			c.resets.Add(1)
			return
		}
		if !bytes.Equal(f.Type, notification) {
			return
		}
		t.deliver(rc, f.Data, f.At)
		// Only this stream's reader calls this until the run ends.
		if n := rc.count(); n > have {
			if have = n; have == c.want {
				c.caught(time.Since(began))
			}
		}
	}
}

var resetType = []byte("reset")

// count is how many distinct items r has seen.
func (r *receiver) count() int {
	n := 0
	for _, w := range r.seen {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

func (c *stormClients) caught(d time.Duration) {
	c.catchUp.record(d)
	c.caughtUp.Add(1)
	for {
		last := c.last.Load()
		if int64(d) <= last || c.last.CompareAndSwap(last, int64(d)) {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending--; c.pending == 0 && !c.connecting {
		c.closeDone.Do(func() { close(c.done) })
	}
}

// await waits until every connected client has caught up, or hold has
// passed after the last connect.
func (c *stormClients) await(ctx context.Context, hold time.Duration) {
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// postStart posts the notification that marks where the storm's clients
// left, and returns its id: the position they resume from.
func (p *apiPublisher) postStart(ctx context.Context, run string) (int64, error) {
	body := []byte(`{"title":"bench:` + run + `:` + stormMarkerTitle + `","body":"beacon bench --storm","level":"info"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.bases[0]+postPath, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: storm: post the start marker: %w", err)
	}
	defer resp.Body.Close()
	var n struct {
		ID int64 `json:"id"`
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("bench: storm: post the start marker: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&n); err != nil || n.ID <= 0 {
		return 0, fmt.Errorf("bench: storm: the start marker's id: %v", err)
	}
	return n.ID, nil
}

// metricsReader reads beacon_db_queries_total from the server's /metrics.
type metricsReader struct {
	url, token string
}

func (m *metricsReader) read(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: read /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("bench: read /metrics: %s (check --metrics-token and the server's METRICS_TOKEN)", resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "beacon_db_queries_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: /metrics: beacon_db_queries_total %q: %w", v, err)
			}
			return int64(f), nil
		}
	}
	return 0, errors.New("bench: /metrics has no beacon_db_queries_total (an older server?)")
}

// quiet reads the count until it holds still for a moment (the server has
// finished with the publishing), at most a few seconds, and returns it.
func (m *metricsReader) quiet(ctx context.Context) (int64, error) {
	last, err := m.read(ctx)
	for range 25 {
		if err != nil {
			return 0, err
		}
		sleep(ctx, 200*time.Millisecond)
		var n int64
		if n, err = m.read(ctx); err == nil && n == last {
			return n, nil
		}
		last = n
	}
	return last, err
}

// write adds the storm's lines to a table report; nothing for another run.
func (st *StormReport) write(b *strings.Builder) {
	if st == nil {
		return
	}
	fmt.Fprintf(b, "storm: every client resumed from %d, %d notifications missed; %d caught up", st.ResumeFrom, st.Missed, st.CaughtUp)
	if st.CaughtUpSeconds > 0 {
		fmt.Fprintf(b, ", all within %.2fs of the first connect", st.CaughtUpSeconds)
	}
	p := st.CatchUp
	fmt.Fprintf(b, "\nstorm: catch-up per client, ms p50 / p90 / p99 / max: %s / %s / %s / %s; resets %d\n",
		msString(p.P50), msString(p.P90), msString(p.P99), msString(p.Max), st.Resets)
	if st.DBQueries >= 0 {
		fmt.Fprintf(b, "storm: %d database statements on the server (beacon_db_queries_total %d → %d)\n",
			st.DBQueries, st.DBQueriesBefore, st.DBQueriesAfter)
	} else {
		b.WriteString("storm: database statements not read (give --metrics-token)\n")
	}
	if st.ServerCPUSeconds > 0 {
		fmt.Fprintf(b, "storm: server CPU %.2fs from the clients' first connect until all caught up\n", st.ServerCPUSeconds)
	}
}
