package stream_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/app/stream"
	"beacon/views/components"
)

// resumeRig is one real SQLite store and broker with several hubs on it,
// each behind its own HTTP server: the same changes, replayed by hubs that
// differ only in their resume window.
type resumeRig struct {
	store  *store.Store
	broker *broker.Memory
	ctx    context.Context
}

func newResumeRig(t *testing.T) *resumeRig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return &resumeRig{store: st, broker: broker.NewMemory(), ctx: context.Background()}
}

// served is a running hub and the URL of its stream.
type served struct {
	hub *stream.Hub
	url string
}

// serve starts a hub with this resume window (-1: none) and serves its
// stream: ?user=ID signs the request in as that user. Its delivery counts
// wait for the hub's end: written meanwhile, they would count among the
// queries of a replay the test counts.
func (r *resumeRig) serve(t *testing.T, window int) served {
	t.Helper()
	hub, err := stream.NewHub(r.ctx, r.store, components.NotificationJSON, r.broker,
		slog.New(slog.NewTextHandler(io.Discard, nil)),
		stream.Options{Heartbeat: 10 * time.Millisecond, ResumeWindow: window, CountEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, _ := strconv.ParseInt(req.URL.Query().Get("user"), 10, 64)
		_ = hub.Stream(req.Context(), w, stream.Request{
			UserID: user, LastEventID: req.Header.Get("Last-Event-ID"), Request: req,
		})
	}))
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub: %v", err)
		}
		srv.Close()
	})
	return served{hub: hub, url: srv.URL}
}

// replay opens a stream as user resuming from cursor and returns what it
// sends before its first heartbeat, the replay's end: one "id event data"
// line per message, the retry line left out.
func replay(t *testing.T, url string, user int64, cursor string) []string {
	t.Helper()
	got, err := replayed(url, user, cursor)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// replayed is replay for any goroutine.
func replayed(url string, user int64, cursor string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/?user=%d", url, user), nil)
	if err != nil {
		return nil, err
	}
	if cursor != "" {
		req.Header.Set("Last-Event-ID", cursor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var got []string
	var id, event string
	var data []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			return got, nil
		case line == "":
			if data != nil {
				got = append(got, id+" "+event+" "+strings.Join(data, "\n"))
			}
			event, data = "", nil
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id = value
			case "event":
				event = value
			case "data":
				data = append(data, value)
			}
		}
	}
	return nil, fmt.Errorf("stream as %d from %q ended before a heartbeat (%v): %q", user, cursor, sc.Err(), got)
}

func (r *resumeRig) post(t *testing.T, title string, recipient *int64, key string) int64 {
	t.Helper()
	n := models.Notification{Title: title, Level: "info", RecipientID: recipient}
	if key != "" {
		n.Key = &key
	}
	if _, err := r.store.CreateOrReplaceNotification(r.ctx, &n); err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func (r *resumeRig) edit(t *testing.T, id int64, title string) {
	t.Helper()
	if _, err := r.store.UpdateNotification(r.ctx, id, store.NotificationPatch{Title: &title}); err != nil {
		t.Fatal(err)
	}
}

func (r *resumeRig) withdraw(t *testing.T, id int64) {
	t.Helper()
	if _, err := r.store.WithdrawNotification(r.ctx, id); err != nil {
		t.Fatal(err)
	}
}

func (r *resumeRig) wake(t *testing.T) {
	t.Helper()
	if err := r.broker.Publish(r.ctx, broker.NotificationsTopic); err != nil {
		t.Fatal(err)
	}
}

// settle posts a notification for user (0: everyone) and waits until
// every hub has fanned it out, so everything before it is in their windows.
func (r *resumeRig) settle(t *testing.T, user int64, hubs ...served) {
	t.Helper()
	subs := make([]*stream.Subscription, len(hubs))
	for i, h := range hubs {
		subs[i] = h.hub.Subscribe(user, nil)
		defer h.hub.Unsubscribe(subs[i])
	}
	var recipient *int64
	if user != 0 {
		recipient = &user
	}
	id := r.post(t, "settle", recipient, "")
	r.wake(t)
	for _, s := range subs {
		for ev := next(t, s); ev.ID < id; ev = next(t, s) {
		}
	}
}

func (r *resumeRig) user(t *testing.T, name string) int64 {
	t.Helper()
	u := models.User{Name: name, Email: name + "@example.com", PasswordHash: "x"}
	if err := r.store.CreateUser(r.ctx, &u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// The window's replay is the database's: for every cursor, for a visitor
// and two users, posts, edits, replacements by key, withdrawals (of ones
// the client held, and of ones posted and withdrawn while it was away),
// others' notifications and a scheduled one falling due, some made before
// the hubs started (the window's fill), some after (the hub's fan-out), a
// hub with the window sends the same frames as one without, in the same
// order. Where the window answers, it reads nothing but PrunedThrough (and
// a user's unread count); where it cannot (the reset cases), the database
// replay does.
func TestResumeWindowReplaysWhatTheDatabaseDoes(t *testing.T) {
	r := newResumeRig(t)
	u1, u2 := r.user(t, "one"), r.user(t, "two")
	a := r.post(t, "a", nil, "")
	b := r.post(t, "b for one", &u1, "")
	c := r.post(t, "c for two", &u2, "")
	r.edit(t, a, "a edited")
	r.post(t, "job 1", nil, "job")
	r.post(t, "job 2", nil, "job") // replaces it
	r.withdraw(t, b)
	later := time.Now().Add(time.Hour)
	s1 := models.Notification{Title: "scheduled", Level: "info", DeliverAt: &later}
	if _, err := r.store.CreateOrReplaceNotification(r.ctx, &s1); err != nil {
		t.Fatal(err)
	}
	e := r.post(t, "e", nil, "")
	soon := time.Now().Add(30 * time.Minute)
	if _, err := r.store.UpdateNotification(r.ctx, s1.ID, store.NotificationPatch{DeliverAt: &soon}); err != nil {
		t.Fatal(err)
	}

	db := r.serve(t, -1)
	window := r.serve(t, 0)
	small := r.serve(t, 6) // evicts: cursors before it go to the database
	hubs := []served{db, window, small}

	f := r.post(t, "f", nil, "")
	r.wake(t)
	r.settle(t, 0, hubs...)
	r.edit(t, e, "e edited")
	r.edit(t, f, "f edited")
	r.wake(t)
	g := r.post(t, "g for one", &u1, "")
	r.withdraw(t, g) // posted and withdrawn before the hubs looked
	r.wake(t)
	now := time.Now().Add(-time.Second)
	if _, err := r.store.UpdateNotification(r.ctx, s1.ID, store.NotificationPatch{DeliverAt: &now}); err != nil {
		t.Fatal(err)
	}
	r.wake(t)
	r.settle(t, 0, hubs...)
	r.post(t, "h for two", &u2, "")
	r.edit(t, c, "c edited")
	r.withdraw(t, a)
	r.post(t, "job 3", nil, "job")
	i := r.post(t, "i", nil, "")
	r.edit(t, i, "i edited")
	r.wake(t)
	r.settle(t, 0, hubs...)
	// The newest changes are for two alone: to the others, cursors there
	// are past anything they may see.
	r.settle(t, u2, hubs...)
	r.settle(t, u2, hubs...)

	last, err := r.store.LastPosition(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cursors := []string{"", "x", "-1"}
	for p := int64(0); p <= last+2; p++ {
		cursors = append(cursors, strconv.FormatInt(p, 10))
	}
	var servedByWindow, servedBySmall, resets int
	for _, user := range []int64{0, u1, u2} {
		for _, cur := range cursors {
			want := replay(t, db.url, user, cur)
			reset := len(want) > 0 && strings.Contains(want[0], " reset ")
			if reset {
				resets++
			}
			for _, h := range []struct {
				name   string
				served served
				count  *int
			}{{"window", window, &servedByWindow}, {"small window", small, &servedBySmall}} {
				before := r.store.Queries()
				got := replay(t, h.served.url, user, cur)
				queries := r.store.Queries() - before
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s, user %d from %q:\n got %q\nwant %q", h.name, user, cur, got, want)
				}
				// From memory: at most PrunedThrough and, for a user, their
				// groups (before the replay and after it), unread count,
				// state number and the state of what was replayed. The
				// database's replay reads more.
				fromMemory := queries <= 1 || user != 0 && queries <= 6
				if fromMemory {
					*h.count++
				}
				if h.name == "window" && cur != "" && fromMemory == reset {
					t.Errorf("window, user %d from %q: %d queries, reset %v: the window must answer exactly the resumable cursors",
						user, cur, queries, reset)
				}
			}
		}
	}
	t.Logf("%d cursors × 3 viewers: %d resets; served from memory: %d by the window, %d by the small one",
		len(cursors), resets, servedByWindow, servedBySmall)
	if resets == 0 || servedBySmall == 0 || servedBySmall >= servedByWindow {
		t.Fatalf("the cases do not reach every path: %d resets, %d from the small window, %d from the full one",
			resets, servedBySmall, servedByWindow)
	}
}

// A storm of resumes from a cursor the window covers costs the database a
// bounded number of queries: PrunedThrough once per PruneFresh, whatever
// the number of streams; without the window, four per stream (fewer of
// those, as they take long under -race on two cores).
func TestResumeStormQueriesAreBounded(t *testing.T) {
	r := newResumeRig(t)
	r.post(t, "before", nil, "")
	from := r.post(t, "where they left", nil, "")
	for i := range 50 {
		r.post(t, fmt.Sprint("missed ", i), nil, "")
	}
	window, db := r.serve(t, 0), r.serve(t, -1)
	cursor := strconv.FormatInt(from, 10)
	want := replay(t, db.url, 0, cursor)
	if len(want) != 50 {
		t.Fatalf("the database replays %d events, want 50", len(want))
	}
	for _, h := range []struct {
		name    string
		served  served
		streams int
	}{{"window", window, 200}, {"database", db, 50}} {
		streams := h.streams
		before := r.store.Queries()
		start := time.Now()
		var wg sync.WaitGroup
		got := make([][]string, streams)
		errs := make([]error, streams)
		for k := range streams {
			wg.Go(func() { got[k], errs[k] = replayed(h.served.url, 0, cursor) })
		}
		wg.Wait()
		took, queries := time.Since(start), r.store.Queries()-before
		for k := range got {
			if errs[k] != nil {
				t.Fatalf("%s: stream %d: %v", h.name, k, errs[k])
			}
			if strings.Join(got[k], "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s: stream %d replayed %d events, not the database's 50", h.name, k, len(got[k]))
			}
		}
		t.Logf("%s: %d streams resuming 50 events: %d queries in %v", h.name, streams, queries, took.Round(time.Millisecond))
		bound := 1 + int64(took/stream.PruneFresh)
		if h.name == "window" && queries > bound {
			t.Fatalf("the window's %d resumes took %d queries, more than one per %v (%d)", streams, queries, stream.PruneFresh, bound)
		}
		if h.name == "database" && queries < int64(4*streams) {
			t.Fatalf("the database's %d resumes took %d queries: the comparison measures nothing", streams, queries)
		}
	}
}
