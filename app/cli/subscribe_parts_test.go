package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// The parser reads a stream as EventSource does, whole or a byte a read
// (a CRLF split across reads included).
func TestSSEParser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		want   []sseEvent
		lastID string
		retry  time.Duration
	}{
		{name: "multi-line data",
			in:     "id: 5\nevent: notification\ndata: {\"a\":\ndata: 1}\n\n",
			want:   []sseEvent{{Event: "notification", ID: "5", HasID: true, Data: "{\"a\":\n1}"}},
			lastID: "5", retry: -1},
		{name: "comments and a type-less message",
			in:     ": ping\n\n:no space\ndata: y\n\n: ping\n\n",
			want:   []sseEvent{{Event: "message", Data: "y"}},
			lastID: "start", retry: -1},
		{name: "retry, bare digits only",
			in:     "retry: 3000\n\nretry: 4s\n\ndata: z\n\n",
			want:   []sseEvent{{Event: "message", Data: "z"}},
			lastID: "start", retry: 3 * time.Second},
		{name: "CRLF",
			in:     "retry: 1500\r\nid: 7\r\nevent: update\r\ndata: d\r\n\r\nevent: unread\r\ndata: {}\r\n\r\n",
			want:   []sseEvent{{Event: "update", ID: "7", HasID: true, Data: "d"}, {Event: "unread", Data: "{}"}},
			lastID: "7", retry: 1500 * time.Millisecond},
		{name: "bare CR and a BOM",
			in:     "\xEF\xBB\xBFdata: a\rdata: b\r\r",
			want:   []sseEvent{{Event: "message", Data: "a\nb"}},
			lastID: "start", retry: -1},
		{name: "no space after the colon, an empty data field",
			in:     "event:withdraw\ndata:x\n\ndata\n\n",
			want:   []sseEvent{{Event: "withdraw", Data: "x"}, {Event: "message", Data: ""}},
			lastID: "start", retry: -1},
		{name: "an id without data moves the resume point",
			in:     "id: 8\ndata: one\n\nid: 9\n\n",
			want:   []sseEvent{{Event: "message", ID: "8", HasID: true, Data: "one"}},
			lastID: "9", retry: -1},
		{name: "a block cut short is dropped, its id too",
			in:     "id: 8\ndata: one\n\nid: 10\ndata: cut",
			want:   []sseEvent{{Event: "message", ID: "8", HasID: true, Data: "one"}},
			lastID: "8", retry: -1},
		{name: "an id with NUL is ignored",
			in:     "id: 1\x002\ndata: n\n\n",
			want:   []sseEvent{{Event: "message", Data: "n"}},
			lastID: "start", retry: -1},
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			p := newSSEParser(r, "start")
			var got []sseEvent
			for {
				ev, err := p.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				got = append(got, ev)
			}
			if !slices.Equal(got, tc.want) || p.lastID != tc.lastID || p.retry != tc.retry {
				t.Errorf("%s (a byte a read: %v):\n got %+v, last id %q, retry %v\nwant %+v, last id %q, retry %v",
					tc.name, oneByte, got, p.lastID, p.retry, tc.want, tc.lastID, tc.retry)
			}
		}
	}
}

// What a read brought is parsed without waiting for the next: two events
// in one write, CRLF ends, the connection still open.
func TestSSEParserDoesNotWaitForMore(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	go w.Write([]byte("id: 1\r\ndata: a\r\n\r\nid: 2\r\ndata: b\r\n\r\n"))
	got := make(chan string, 2)
	go func() {
		p := newSSEParser(r, "")
		for range 2 {
			if ev, err := p.next(); err == nil {
				got <- ev.Data
			}
		}
	}()
	for _, want := range []string{"a", "b"} {
		select {
		case d := <-got:
			if d != want {
				t.Fatalf("got %q, want %q", d, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %q waits for more bytes", want)
		}
	}
}

// A line over the bound is an error, not a buffer without end.
func TestSSEParserBoundsALine(t *testing.T) {
	p := newSSEParser(strings.NewReader("data: "+strings.Repeat("x", maxSSELine)+"\n\n"), "")
	if _, err := p.next(); err == nil || err == io.EOF {
		t.Fatalf("a line over %d bytes: %v", maxSSELine, err)
	}
}

func TestStreamURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
		insecure bool
	}{
		{in: "https://beacon.example.com", want: "https://beacon.example.com/notifications/stream?fields=json"},
		{in: "https://beacon.example.com/", want: "https://beacon.example.com/notifications/stream?fields=json"},
		{in: "https://example.com/beacon/", want: "https://example.com/beacon/notifications/stream?fields=json"},
		{in: "https://example.com/notifications/stream", want: "https://example.com/notifications/stream?fields=json"},
		{in: "https://example.com/notifications/stream/?fields=all#x", want: "https://example.com/notifications/stream?fields=all"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/notifications/stream?fields=json"},
		{in: "http://127.8.9.10", want: "http://127.8.9.10/notifications/stream?fields=json"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080/notifications/stream?fields=json"},
		{in: "http://LocalHost.:8080", want: "http://LocalHost.:8080/notifications/stream?fields=json"},
		{in: "http://beacon.example.com"},
		{in: "http://10.0.0.1:8080"},
		{in: "http://localhost.example.com"},
		{in: "http://beacon.example.com", insecure: true, want: "http://beacon.example.com/notifications/stream?fields=json"},
		{in: "beacon.example.com"},
		{in: "ftp://beacon.example.com"},
		{in: "https://ada:secret@beacon.example.com"},
	} {
		u, err := streamURL(tc.in, tc.insecure)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s was accepted as %s", tc.in, u)
		case tc.want == "" && strings.Contains(err.Error(), "secret"):
			t.Errorf("%s: the refusal shows the password: %v", tc.in, err)
		case tc.want != "" && (err != nil || u.String() != tc.want):
			t.Errorf("%s: %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
	if _, err := streamURL("http://beacon.example.com", false); err == nil || !strings.Contains(err.Error(), "--insecure") {
		t.Errorf("the refusal of plain http does not say how to insist: %v", err)
	}
}

func TestSubscribeArgs(t *testing.T) {
	env := Env{Getenv: func(k string) string {
		if k == "BEACON_TOKEN" {
			return "bcr_fromtheenvironment\n"
		}
		return ""
	}, Stdout: io.Discard, Log: slog.New(slog.DiscardHandler)}
	// Flags after the URL, and the token from the environment, trimmed.
	opts, err := subscribeArgs(env, []string{"https://b.example.com", "--format", "text", "--exec", "true"})
	if err != nil || !opts.text || opts.exec != "true" || opts.token != "bcr_fromtheenvironment" || opts.stream.Host != "b.example.com" {
		t.Fatalf("%+v %v", opts, err)
	}
	if opts, _ := subscribeArgs(env, []string{"--token", "bcn_flag", "--format=text", "--json", "https://b.example.com"}); opts.token != "bcn_flag" || opts.text {
		t.Errorf("--token beats the environment, and a later --json beats --format text: %+v", opts)
	}
	for _, args := range [][]string{{}, {"https://a.example.com", "https://b.example.com"}, {"--format", "xml", "https://b.example.com"}, {"--nope", "https://b.example.com"}} {
		if _, err := subscribeArgs(env, args); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	var help bytes.Buffer
	env.Stdout = &help
	if _, err := subscribeArgs(env, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "BEACON_URL") {
		t.Fatalf("-h: %v\n%s", err, help.String())
	}
	if strings.Contains(help.String(), "fromtheenvironment") {
		t.Fatal("-h shows the token of BEACON_TOKEN")
	}
}

func TestRetryAfter(t *testing.T) {
	fallback := 2 * time.Second
	for h, want := range map[string]time.Duration{
		"10": 10 * time.Second, "": fallback, "-1": fallback, "soon": fallback, "0": fallback,
		"999999": maxRetryAfter,
		time.Now().Add(-time.Minute).UTC().Format(http1Date): fallback,
	} {
		if got := retryAfter(h, fallback); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
	if got := retryAfter(time.Now().Add(time.Minute).UTC().Format(http1Date), fallback); got < 55*time.Second || got > time.Minute {
		t.Errorf("Retry-After a minute from now: %v", got)
	}
}

const http1Date = "Mon, 02 Jan 2006 15:04:05 GMT"

// A line of text is one line, whatever the notification holds: no
// newline, no escape sequence reaches the terminal.
func TestSubscribeTextLine(t *testing.T) {
	var out bytes.Buffer
	sink := &eventSink{out: &out, text: true, log: slog.New(slog.DiscardHandler)}
	for _, ev := range []sseEvent{
		{Event: "notification", ID: "1", Data: `{"id":1,"title":"Disk \u001b[31mfull","body":"host-3\nis 95% full","level":"warning"}`},
		{Event: "unread", Data: `{"unread":1}`},
		{Event: "update", ID: "2", Data: `{"id":1,"title":"Disk full","body":"","level":"warning"}`},
		{Event: "withdraw", ID: "3", Data: `{"id":1}`},
		{Event: "state", Data: `{"ids":[1],"read":true}`},
	} {
		if err := sink.handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	want := "[warning] Disk  [31mfull — host-3 is 95% full\n[warning] Disk full (updated)\n(withdrawn 1)\n"
	if out.String() != want {
		t.Fatalf("printed %q\nwant %q", out.String(), want)
	}
}

// What a proxy in front of a Beacon may answer: a stream that is cut, a
// 502, a 429 with Retry-After; each is tried again, resuming from the last
// complete event, and a 401 ends it with an error.
func TestFollowerRetriesAndResumes(t *testing.T) {
	var mu sync.Mutex
	var resumedFrom []string
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		resumedFrom = append(resumedFrom, r.Header.Get("Last-Event-ID"))
		at = append(at, time.Now())
		n := len(at)
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer bcr_test" {
			t.Errorf("request %d: Authorization %q", n, r.Header.Get("Authorization"))
		}
		stream := func(body string) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, body)
		}
		switch n {
		case 1:
			stream("retry: 50\n\nid: 1\nevent: notification\ndata: {\"id\":1}\n\nid: 2\nevent: update\ndata: {\"id\":1}\n\nid: 3\nevent: notif")
		case 2:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case 3:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many", http.StatusTooManyRequests)
		case 4:
			stream("id: 3\nevent: notification\ndata: {\"id\":3}\n\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid bearer token"}`)
		}
	}))
	defer srv.Close()
	u, err := streamURL(srv.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	f := newFollower(subscribeOptions{stream: u, token: "bcr_test"}, slog.New(slog.DiscardHandler), func(_ context.Context, ev sseEvent) error {
		got = append(got, ev.Event+" "+ev.ID)
		return nil
	})
	err = f.run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "the token was refused (401 Unauthorized: invalid bearer token)") || strings.Contains(err.Error(), "bcr_test") {
		t.Fatalf("after a 401: %v", err)
	}
	if want := []string{"notification 1", "update 2", "notification 3"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	if want := []string{"", "2", "2", "2", "3"}; !slices.Equal(resumedFrom, want) {
		t.Errorf("Last-Event-ID %q, want %q", resumedFrom, want)
	}
	if wait := at[3].Sub(at[2]); wait < time.Second {
		t.Errorf("reconnected %v after a 429 with Retry-After: 1", wait)
	}
	if wait := at[1].Sub(at[0]); wait < minRetry || wait > time.Second {
		t.Errorf("reconnected %v after the stream ended, with retry: 50 (raised to %v)", wait, minRetry)
	}
}
