package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// execGrace is how long an --exec command has to end after a SIGTERM
// before it is killed, when subscribe is stopped.
const execGrace = 5 * time.Second

// eventSink prints each event of the stream and runs --exec for it.
type eventSink struct {
	out    io.Writer
	text   bool   // --format text
	exec   string // --exec
	cmdOut io.Writer
	log    *slog.Logger
}

// streamNotification is what a notification or update event's data says
// of it, as far as a line of text or an --exec command needs.
type streamNotification struct {
	ID     int64   `json:"id"`
	Title  string  `json:"title"`
	Body   string  `json:"body"`
	Level  string  `json:"level"`
	URL    *string `json:"url"`
	LastID int64   `json:"last_id"` // a reset's
}

// handle prints ev and runs the command for it. Its error (standard
// output is gone) ends the subscription.
func (s *eventSink) handle(ctx context.Context, ev sseEvent) error {
	var n streamNotification
	parsed := json.Unmarshal([]byte(ev.Data), &n) == nil
	if err := s.print(ev, n, parsed); err != nil {
		return fmt.Errorf("subscribe: write the event: %w", err)
	}
	if s.exec == "" || (ev.Event != "notification" && ev.Event != "update") {
		return nil
	}
	if !parsed {
		s.log.Warn("subscribe: --exec skipped: the event's data is not a notification", "event", ev.Event, "id", ev.ID)
		return nil
	}
	s.run(ctx, ev.Event, n)
	return nil
}

// jsonLine is the line --format json prints for each event.
type jsonLine struct {
	Event string          `json:"event"`
	ID    string          `json:"id,omitempty"`
	Data  json.RawMessage `json:"data"`
}

func (s *eventSink) print(ev sseEvent, n streamNotification, parsed bool) error {
	if !s.text {
		line := jsonLine{Event: ev.Event, ID: ev.ID, Data: json.RawMessage(ev.Data)}
		if !json.Valid(line.Data) {
			line.Data, _ = json.Marshal(ev.Data) // not Beacon's: kept as a string
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(line); err != nil {
			return err
		}
		_, err := s.out.Write(b.Bytes())
		return err
	}
	var line string
	switch {
	case !parsed:
		return nil
	case ev.Event == "notification" || ev.Event == "update":
		line = "[" + oneLine(n.Level) + "] " + oneLine(n.Title)
		if n.Body != "" {
			line += " — " + oneLine(n.Body)
		}
		if ev.Event == "update" {
			line += " (updated)"
		}
	case ev.Event == "withdraw":
		line = fmt.Sprintf("(withdrawn %d)", n.ID)
	case ev.Event == "reset":
		line = fmt.Sprintf("(reset: some changes were not sent; continuing from %d)", n.LastID)
	default:
		return nil // unread, state: nothing a person reads
	}
	_, err := io.WriteString(s.out, line+"\n")
	return err
}

// run runs the --exec command for one notification and waits for it. A
// failure is logged: one bad notification must not end the subscription.
func (s *eventSink) run(ctx context.Context, event string, n streamNotification) {
	url := ""
	if n.URL != nil {
		url = *n.URL
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", s.exec)
	// The command gets the notification, not the token subscribe reads with.
	environ := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "BEACON_TOKEN=") })
	cmd.Env = append(environ,
		"BEACON_EVENT="+event,
		"BEACON_ID="+strconv.FormatInt(n.ID, 10),
		"BEACON_TITLE="+envValue(n.Title),
		"BEACON_BODY="+envValue(n.Body),
		"BEACON_LEVEL="+envValue(n.Level),
		"BEACON_URL="+envValue(url),
	)
	cmd.Stdout, cmd.Stderr = s.cmdOut, s.cmdOut
	// Stopped with subscribe, the command gets the same polite signal.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = execGrace
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		s.log.Warn("subscribe: the --exec command failed", "event", event, "id", n.ID, "err", err)
	}
}

// envValue drops NUL bytes, which an environment cannot hold.
func envValue(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// oneLine makes text safe for one line of a terminal: control characters
// (newlines, escape sequences) and bidirectional overrides become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
}
