package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

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
	// Duration, when set, stops publishing once it has passed, whatever
	// of Messages is left: with Rate 0 it measures how many posts the
	// Publishers carry in that time. Messages 0 with it: up to
	// Rate × Duration, or maxTimedMessages at Rate 0.
	Duration time.Duration
	// Batch, above 1, posts notifications through POST
	// /api/notifications/batch, this many per call.
	Batch int

	Settle  time.Duration // wait after connecting, before publishing
	Hold    time.Duration // longest wait for deliveries after the last publish, default 5s
	Timeout time.Duration // bound on the whole run, default 10m

	ConnectConcurrency int           // connections being opened at once, default 200
	ConnectTimeout     time.Duration // per connection, default 10s
	Publishers         int           // concurrent API calls (posters), default 8

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

// maxTimedMessages bounds a timed run at Rate 0 (Options.Duration): every
// receiver keeps a bit per item, 125 KiB each at this many.
const maxTimedMessages = 1_000_000

// maxBatch is the most items POST /api/notifications/batch takes.
const maxBatch = 1000

func (o *Options) setDefaults() {
	if o.Duration > 0 && o.Messages == 0 {
		o.Messages = maxTimedMessages
		if o.Rate > 0 {
			o.Messages = max(1, int(math.Ceil(o.Rate*o.Duration.Seconds())))
		}
	}
	if o.Batch <= 0 {
		o.Batch = 1
	}
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
	case o.SSEClients < 0 || o.ChatClients < 0 || o.Messages < 0 || o.Rate < 0 || o.Duration < 0:
		return errors.New("bench: counts, the rate and the duration must not be negative")
	case o.Batch > maxBatch:
		return fmt.Errorf("bench: --batch takes at most %d notifications a call, not %d", maxBatch, o.Batch)
	case o.Storm && (o.Batch > 1 || o.Duration > 0):
		return errors.New("bench: --batch and --duration do not go with --storm")
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
