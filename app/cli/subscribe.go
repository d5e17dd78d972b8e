package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
)

const subscribeUsage = `usage: beacon subscribe [flags] URL

Follows the notification stream of the Beacon at URL (its address, such as
https://beacon.example.com; URL/notifications/stream is taken as it is) and
prints each event on standard output until interrupted.

With a personal read token (--token, or BEACON_TOKEN; made on the Beacon's
/settings page) it follows what that person sees, with their unread count
and read state; an admin's API token reads as that admin; without a token it
follows what visitors see. It connects only over https://, or http:// to this
machine (127.0.0.1, ::1, localhost), unless --insecure: over plain http the
token and the notifications would travel unencrypted.

--format json (the default; --json says the same) prints one JSON object a
line for every event: {"event":"notification","id":"42","data":{…}}, where
event is notification, update, withdraw, reset (the Beacon could not resume:
reload what you hold), and with a token also unread and state; id is the
stream position (none on unread and state); data is the event's JSON as the
stream sent it (the notification's fields without html). --format text
prints a line per notification, update and withdraw, for a person:
  [warning] Disk full — host-3 is 95% full
  [warning] Disk full — host-3 is 99% full (updated)
  (withdrawn 42)

A dropped connection, a Beacon that restarts or answers 5xx, or a stream
silent for a minute (Beacon pings every 15s) is tried again after the delay
the Beacon asked for (2s unless it said otherwise), resuming with
Last-Event-ID: no event is missed and none comes twice. A 429 waits its
Retry-After. A refused token (401, 403) stops with an error. Exit status: 0
after SIGINT or SIGTERM, 1 after an error, 2 for a bad command line.

--exec CMD runs CMD with sh -c for every notification and update event, one
at a time, in stream order, with these in its environment: BEACON_EVENT
(notification or update), BEACON_ID, BEACON_TITLE, BEACON_BODY,
BEACON_LEVEL, BEACON_URL (empty when there is none). Its standard output and
error go to standard error, since standard output carries the events. A
command that fails is logged and the subscription goes on. The next event is
taken once the command has finished, so a resume starts after the last event
whose command ran.

flags:`

// subscribeOptions is what `beacon subscribe` was asked to do.
type subscribeOptions struct {
	stream   *url.URL // the stream's address, ?fields=json added
	token    string
	text     bool   // --format text
	exec     string // --exec
	lastID   string // --last-event-id
	insecure bool
}

// subscribeCmd runs `beacon subscribe [flags] URL`.
func subscribeCmd(ctx context.Context, env Env, args []string) error {
	opts, err := subscribeArgs(env, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	sink := &eventSink{
		out:  env.Stdout,
		text: opts.text,
		exec: opts.exec,
		// Env has no standard error: the command's output goes where the
		// process's own log goes.
		cmdOut: os.Stderr,
		log:    env.Log,
	}
	f := newFollower(opts, env.Log, sink.handle)
	return f.run(ctx)
}

// subscribeArgs reads the command line. Flags may come before or after
// the URL. -h prints the usage and returns flag.ErrHelp.
func subscribeArgs(env Env, args []string) (subscribeOptions, error) {
	var opts subscribeOptions
	format := "json"
	fs := flag.NewFlagSet("subscribe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// No default shown for the token: -h must not print $BEACON_TOKEN.
	fs.StringVar(&opts.token, "token", "", "a personal read token, or an admin's API token (default $BEACON_TOKEN; prefer the variable: a flag shows in ps)")
	fs.StringVar(&format, "format", format, "json (one JSON object a line for every event) or text (a line per notification for a person)")
	fs.BoolFunc("json", "the same as --format json", func(string) error { format = "json"; return nil })
	fs.StringVar(&opts.exec, "exec", "", "run this command (with sh -c) for every notification and update, its fields in the environment")
	fs.StringVar(&opts.lastID, "last-event-id", "", "resume after this stream position (an id printed before) instead of starting from now")
	fs.BoolVar(&opts.insecure, "insecure", false, "allow http:// to a host other than this machine (the token travels unencrypted)")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return opts, errors.Join(printUsage(env.Stdout, subscribeUsage, fs), flag.ErrHelp)
			}
			return opts, fmt.Errorf("%w\n\n%v (beacon subscribe -h)", ErrUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return opts, fmt.Errorf("%w\n\nbeacon subscribe takes one URL, such as https://beacon.example.com (beacon subscribe -h)", ErrUsage)
	}
	switch format {
	case "json", "text":
		opts.text = format == "text"
	default:
		return opts, fmt.Errorf("%w\n\n--format must be json or text, not %q", ErrUsage, format)
	}
	opts.token = strings.TrimSpace(cmp.Or(opts.token, env.Getenv("BEACON_TOKEN")))
	var err error
	opts.stream, err = streamURL(positional[0], opts.insecure)
	return opts, err
}

// subscribeStreamPath is where a Beacon serves its notification stream.
const subscribeStreamPath = "/notifications/stream"

// streamURL is the stream's address for the Beacon at raw, which may name
// the stream itself. It asks for the notifications' fields without html,
// which a terminal or a script has no use for.
func streamURL(raw string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("subscribe: the URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("subscribe: %q is not a Beacon's address: it must be https://HOST (or http:// to this machine), such as https://beacon.example.com", u.Redacted())
	}
	if u.User != nil {
		return nil, errors.New("subscribe: the URL carries a user or password: pass the token with --token or BEACON_TOKEN instead")
	}
	if u.Scheme == "http" && !insecure && !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("subscribe: refusing http://%s: the token and the notifications would travel unencrypted; use https://, or pass --insecure if the network is yours", u.Host)
	}
	u.Fragment, u.RawFragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(u.Path, subscribeStreamPath) {
		u.Path += subscribeStreamPath
	}
	u.RawPath = ""
	if q := u.Query(); !q.Has("fields") {
		q.Set("fields", "json")
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// loopbackHost reports whether host names this machine, so that plain
// http to it never leaves it.
func loopbackHost(host string) bool {
	if h := strings.TrimSuffix(host, "."); strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
