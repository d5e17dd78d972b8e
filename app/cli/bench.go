package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"beacon/app/bench"
)

const benchUsage = `usage: beacon bench [flags]

Opens --sse streams and/or --chat sockets against a running Beacon, publishes
--messages notifications (through the API) and/or chat messages at --rate,
and reports delivery latency, deliveries/s, lost and duplicate deliveries, and,
with --pid, the server's RSS per connection and CPU time. Loopback targets only,
unless --allow-remote.

The API token comes from --token or BEACON_TOKEN; the chat user's password from
BEACON_PASSWORD (or --password). For large runs, start the server with
STREAM_LIMIT_ADDRESS=0 STREAM_LIMIT_USER=0, and for chat rates over 10/s with
CHAT_RATE_LIMIT and CHAT_RATE_BURST raised.

--posters N --rate 0 posts as fast as N concurrent API calls can: for
--duration, or until --messages are posted; the report says posts/s. --batch K
posts K notifications a call through POST /api/notifications/batch.

--storm measures a reconnect storm: time until every resumed client has every
notification it missed, and with --metrics-token the server's database
statements (beacon_db_queries_total) over it.

flags:`

// benchCmd runs `beacon bench`.
func benchCmd(ctx context.Context, env Env, args []string) error {
	opts := bench.Options{Email: env.Getenv("BEACON_EMAIL"), Log: env.Log}
	var asJSON bool
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opts.URL, "url", "http://127.0.0.1:8080", "the Beacon to load")
	fs.StringVar(&opts.PublishURL, "publish-url", "", "post notifications to this Beacon instead (another instance on the same database); several, comma-separated, take them in turn")
	fs.BoolVar(&opts.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address (your own deployment)")
	fs.IntVar(&opts.SSEClients, "sse", 0, "notification streams to open")
	fs.StringVar(&opts.Fields, "fields", "html", "what the streams ask for: html (as the feed page does), json, or all (no ?fields=)")
	fs.StringVar(&opts.Readers, "readers", "", "how the streams are read: poll (a few goroutines on epoll; the default on Linux) or goroutines (one per stream)")
	fs.IntVar(&opts.ChatClients, "chat", 0, "chat WebSockets to open (they need --email and BEACON_PASSWORD)")
	fs.IntVar(&opts.Messages, "messages", 15, "notifications (and chat messages) to publish")
	fs.Float64Var(&opts.Rate, "rate", 1, "messages per second; 0 sends them all at once")
	fs.DurationVar(&opts.Settle, "settle", 0, "wait after connecting, before publishing (RSS is read then)")
	fs.DurationVar(&opts.Hold, "hold", 0, "longest wait for deliveries after the last publish (default 5s)")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "bound on the whole run (default 10m)")
	fs.IntVar(&opts.ConnectConcurrency, "connect-concurrency", 0, "connections opened at once (default 200)")
	fs.DurationVar(&opts.ConnectTimeout, "connect-timeout", 0, "bound on opening one connection (default 10s)")
	fs.IntVar(&opts.Publishers, "posters", 0, "concurrent API calls (default 8); with --rate 0, each posts again as soon as its call returns")
	fs.IntVar(&opts.Publishers, "publishers", 0, "the same as --posters")
	fs.DurationVar(&opts.Duration, "duration", 0, "stop publishing after this long; without --messages, post until then (at --rate, or as fast as the posters can at --rate 0)")
	fs.IntVar(&opts.Batch, "batch", 0, "post notifications through POST /api/notifications/batch, this many (at most 1000) per call")
	// Secrets have no default in the flags: -h would print them.
	fs.StringVar(&opts.Token, "token", "", "API token (default $BEACON_TOKEN)")
	fs.StringVar(&opts.Email, "email", opts.Email, "the user the chat clients sign in as (default $BEACON_EMAIL)")
	fs.StringVar(&opts.Password, "password", "", "that user's password (default $BEACON_PASSWORD; prefer the variable)")
	fs.StringVar(&opts.Room, "room", "bench", "chat room")
	fs.IntVar(&opts.ChatSenders, "chat-senders", 0, "chat sockets that send, besides --chat (default one per 5 messages/s)")
	fs.IntVar(&opts.PID, "pid", 0, "a local server's pid: report its RSS per connection and CPU time")
	fs.BoolVar(&opts.Storm, "storm", false, "reconnect storm: publish --messages first, then open every --sse client at once resuming from before them (Last-Event-ID)")
	fs.StringVar(&opts.MetricsToken, "metrics-token", "", "the server's METRICS_TOKEN: --storm reports the database statements it cost (default $METRICS_TOKEN)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return printUsage(env.Stdout, benchUsage, fs)
		}
		return fmt.Errorf("%w\n\n%v", ErrUsage, err)
	}
	opts.Token = cmp.Or(opts.Token, env.Getenv("BEACON_TOKEN"))
	opts.Password = cmp.Or(opts.Password, env.Getenv("BEACON_PASSWORD"))
	opts.MetricsToken = cmp.Or(opts.MetricsToken, env.Getenv("METRICS_TOKEN"))
	if opts.Duration > 0 && !flagSet(fs, "messages") {
		opts.Messages = 0 // as many as the duration takes
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w\n\nbeacon bench takes flags only, not %q", ErrUsage, fs.Arg(0))
	}
	limit, err := bench.RaiseFileLimit()
	if err != nil {
		env.Log.Warn("bench: could not raise the open-file limit", "err", err)
	}
	if need := uint64(opts.SSEClients+opts.ChatClients) + 64; limit > 0 && limit < need {
		env.Log.Warn("bench: the open-file limit is below the clients wanted: raise the hard limit (ulimit -Hn)", "limit", limit, "need", need)
	}
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	rep.FileLimit = limit
	if asJSON {
		return rep.WriteJSON(env.Stdout)
	}
	return rep.WriteTable(env.Stdout)
}

// flagSet reports whether the command line gave flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// printUsage writes a command's usage text and then its flags.
func printUsage(w io.Writer, usage string, fs *flag.FlagSet) error {
	var b strings.Builder
	b.WriteString(usage + "\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	_, err := io.WriteString(w, b.String())
	return err
}
