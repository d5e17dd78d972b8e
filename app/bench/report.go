package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Its JSON is for machines (--json).
type Report struct {
	Target   string  `json:"target"`
	Run      string  `json:"run"` // the marker that told this run's items from others'
	Messages int     `json:"messages"`
	Rate     float64 `json:"rate"`            // per second; 0: all at once
	For      string  `json:"for,omitempty"`   // how long it published, when timed (Options.Duration)
	Batch    int     `json:"batch,omitempty"` // notifications per API call, when above 1
	Posters  int     `json:"posters"`         // concurrent API calls
	// PostsPerSecond is the notifications the API took over PublishSeconds:
	// with Rate 0, what the posters carried.
	PostsPerSecond   float64 `json:"posts_per_second"`
	FileLimit        uint64  `json:"file_limit,omitempty"`
	ConnectSeconds   float64 `json:"connect_seconds"`
	PublishSeconds   float64 `json:"publish_seconds"`
	DurationSeconds  float64 `json:"duration_seconds"`
	TimedOut         bool    `json:"timed_out"`
	ClientCPUSeconds float64 `json:"client_cpu_seconds"` // this tool's own, to tell when it was the limit
	// ClientCPURunSeconds is the part of it spent publishing and receiving.
	ClientCPURunSeconds float64       `json:"client_cpu_run_seconds,omitempty"`
	SSE                 *TrackReport  `json:"sse,omitempty"`
	Chat                *TrackReport  `json:"chat,omitempty"`
	Server              *ServerReport `json:"server,omitempty"`
	Storm               *StormReport  `json:"storm,omitempty"`
}

// TrackReport is one kind of client: SSE streams or chat sockets.
type TrackReport struct {
	Clients         int   `json:"clients"`
	Connected       int   `json:"connected"`
	ConnectFailures int64 `json:"connect_failures"`
	Disconnects     int64 `json:"disconnects"` // connections that ended before the run did
	// Polled is how many streams were read on the poller (--readers
	// poll); the others (TLS, or a proxy's chunked encoding) had a
	// goroutine each.
	Polled          int64 `json:"polled,omitempty"`
	Published       int   `json:"published"`
	PublishFailures int64 `json:"publish_failures"`
	Refused         int64 `json:"refused,omitempty"` // chat messages answered with an error frame
	Expected        int64 `json:"expected"`          // published × connected
	Delivered       int64 `json:"delivered"`         // distinct deliveries
	Lost            int64 `json:"lost"`
	Duplicates      int64 `json:"duplicates"`
	// DeliveriesPerSecond is Delivered over the time from the first
	// scheduled send to the last delivery.
	DeliveriesPerSecond float64     `json:"deliveries_per_second"`
	FromSend            Percentiles `json:"latency_from_send"`
	FromSchedule        Percentiles `json:"latency_from_schedule"`
	PublishCall         Percentiles `json:"publish_call"`
	Errors              []string    `json:"errors,omitempty"`
}

// ServerReport is what /proc said of the server (--pid).
type ServerReport struct {
	PID                 int     `json:"pid"`
	RSSBeforeKiB        int64   `json:"rss_before_kib"`
	RSSConnectedKiB     int64   `json:"rss_connected_kib"` // after connecting and settling
	RSSEndKiB           int64   `json:"rss_end_kib"`
	RSSPerConnectionKiB float64 `json:"rss_per_connection_kib"`
	CPUConnectSeconds   float64 `json:"cpu_connect_seconds"` // connecting and settling
	CPURunSeconds       float64 `json:"cpu_run_seconds"`     // publishing and delivering
	CPUPerDeliveryUs    float64 `json:"cpu_per_delivery_us"`
}

func (t *track) report(clients int, start time.Time) *TrackReport {
	published, expected, lost := t.tally()
	rep := &TrackReport{
		Clients: clients, Connected: len(t.receivers), ConnectFailures: t.connectFails.Load(),
		Disconnects: t.disconnects.Load(), Polled: t.polled.Load(), Published: published, PublishFailures: t.publishFails.Load(),
		Refused: t.refused.Load(), Expected: expected, Delivered: t.unique.Load(), Lost: lost,
		Duplicates: t.duplicates.Load(), FromSend: t.fromSend.percentiles(),
		FromSchedule: t.fromSchedule.percentiles(), PublishCall: t.publish.percentiles(), Errors: t.errs.list(),
	}
	if last := t.lastAt.Load(); last > start.UnixNano() {
		rep.DeliveriesPerSecond = float64(rep.Delivered) / time.Duration(last-start.UnixNano()).Seconds()
	}
	return rep
}

// serverProcs samples a local server's /proc at the run's three moments.
type serverProcs struct {
	pid                    int
	before, connected, end procSample
}

func (p *serverProcs) sample(into *procSample) error {
	if p.pid == 0 {
		return nil
	}
	s, err := readProc(p.pid)
	if err != nil {
		return fmt.Errorf("bench: --pid %d: %w", p.pid, err)
	}
	*into = s
	return nil
}

func (p *serverProcs) report(rep *Report) *ServerReport {
	if p.pid == 0 {
		return nil
	}
	s := &ServerReport{
		PID: p.pid, RSSBeforeKiB: p.before.rssKiB, RSSConnectedKiB: p.connected.rssKiB, RSSEndKiB: p.end.rssKiB,
		CPUConnectSeconds: p.connected.cpu - p.before.cpu, CPURunSeconds: p.end.cpu - p.connected.cpu,
	}
	conns, deliveries := 0, int64(0)
	for _, t := range []*TrackReport{rep.SSE, rep.Chat} {
		if t != nil {
			conns += t.Connected
			deliveries += t.Delivered
		}
	}
	if conns > 0 {
		s.RSSPerConnectionKiB = float64(s.RSSConnectedKiB-s.RSSBeforeKiB) / float64(conns)
	}
	if deliveries > 0 {
		s.CPUPerDeliveryUs = s.CPURunSeconds * 1e6 / float64(deliveries)
	}
	return s
}

// WriteJSON writes the report as one indented JSON object.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report for people.
func (rep *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	what := fmt.Sprintf("%d messages %s", rep.Messages, rateString(rep.Rate))
	if rep.For != "" {
		what = fmt.Sprintf("messages for %s %s (at most %d)", rep.For, rateString(rep.Rate), rep.Messages)
	}
	fmt.Fprintf(&b, "beacon bench %s: run %s, %s; connected in %.1fs, published in %.1fs, %.1fs in all\n",
		rep.Target, rep.Run, what, rep.ConnectSeconds, rep.PublishSeconds, rep.DurationSeconds)
	if rep.SSE != nil && rep.PublishSeconds > 0 {
		per := ""
		if rep.Batch > 1 {
			per = fmt.Sprintf(", %d a call", rep.Batch)
		}
		fmt.Fprintf(&b, "posts/s: %.0f (%d posters%s)\n", rep.PostsPerSecond, rep.Posters, per)
	}
	if rep.TimedOut {
		b.WriteString("TIMED OUT: the figures are what was seen until then\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	var tracks []*TrackReport
	head := []string{""}
	for _, t := range []struct {
		name string
		rep  *TrackReport
	}{{"sse", rep.SSE}, {"chat", rep.Chat}} {
		if t.rep != nil {
			tracks = append(tracks, t.rep)
			head = append(head, t.name)
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	row := func(label string, cell func(*TrackReport) string) {
		line := []string{label}
		for _, t := range tracks {
			line = append(line, cell(t))
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	num := func(f func(*TrackReport) int64) func(*TrackReport) string {
		return func(t *TrackReport) string { return fmt.Sprint(f(t)) }
	}
	ms := func(f func(*TrackReport) Percentiles) func(*TrackReport) string {
		return func(t *TrackReport) string {
			p := f(t)
			return fmt.Sprintf("%s / %s / %s / %s", msString(p.P50), msString(p.P90), msString(p.P99), msString(p.Max))
		}
	}
	row("clients connected", func(t *TrackReport) string { return fmt.Sprintf("%d of %d", t.Connected, t.Clients) })
	row("connect failures", num(func(t *TrackReport) int64 { return t.ConnectFailures }))
	row("disconnects", num(func(t *TrackReport) int64 { return t.Disconnects }))
	if rep.SSE != nil && rep.SSE.Polled > 0 {
		row("streams on the poller", func(t *TrackReport) string {
			if t == rep.Chat {
				return "-" // chat sockets have a goroutine each
			}
			return fmt.Sprint(t.Polled)
		})
	}
	row("published", func(t *TrackReport) string { return fmt.Sprintf("%d of %d", t.Published, rep.Messages) })
	row("publish failures", num(func(t *TrackReport) int64 { return t.PublishFailures + t.Refused }))
	row("deliveries expected", num(func(t *TrackReport) int64 { return t.Expected }))
	row("delivered", num(func(t *TrackReport) int64 { return t.Delivered }))
	row("lost", num(func(t *TrackReport) int64 { return t.Lost }))
	row("duplicates", num(func(t *TrackReport) int64 { return t.Duplicates }))
	row("deliveries/s", func(t *TrackReport) string { return fmt.Sprintf("%.0f", t.DeliveriesPerSecond) })
	row("latency from send, ms p50 / p90 / p99 / max", ms(func(t *TrackReport) Percentiles { return t.FromSend }))
	row("from schedule", ms(func(t *TrackReport) Percentiles { return t.FromSchedule }))
	row("publish call", ms(func(t *TrackReport) Percentiles { return t.PublishCall }))
	if err := tw.Flush(); err != nil {
		return err
	}
	if s := rep.Server; s != nil {
		fmt.Fprintf(&b, "server pid %d: RSS %d KiB before, %d KiB connected (%.1f KiB per connection), %d KiB at the end\n",
			s.PID, s.RSSBeforeKiB, s.RSSConnectedKiB, s.RSSPerConnectionKiB, s.RSSEndKiB)
		fmt.Fprintf(&b, "server CPU: %.2fs connecting, %.2fs publishing and delivering (%.1f µs per delivery)\n",
			s.CPUConnectSeconds, s.CPURunSeconds, s.CPUPerDeliveryUs)
	}
	rep.Storm.write(&b)
	fmt.Fprintf(&b, "bench CPU: %.2fs", rep.ClientCPUSeconds)
	if rep.ClientCPURunSeconds > 0 {
		fmt.Fprintf(&b, " (%.2fs publishing and receiving)", rep.ClientCPURunSeconds)
	}
	if rep.FileLimit > 0 {
		fmt.Fprintf(&b, "; open-file limit %d", rep.FileLimit)
	}
	b.WriteString("\n")
	for _, t := range tracks {
		for _, e := range t.Errors {
			fmt.Fprintf(&b, "error: %s\n", e)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func msString(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 1000:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// round keeps a log line's seconds short.
func round(s float64) float64 { return math.Round(s*100) / 100 }
