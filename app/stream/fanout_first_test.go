package stream_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/pgtest"
	"beacon/app/store"
	"beacon/app/stream"
	"beacon/views/components"
)

// The race of issue 20, made deterministic: changes commit while the hub
// is held (nothing is published), then it looks once. A notification's
// first event on every stream is `notification`, in its latest state, and
// only once: to a stream that never had it however it changed meanwhile,
// nothing for one posted and withdrawn meanwhile, and `update` to one whose
// replay already read it. On SQLite and PostgreSQL, with the resume window
// and with the database replay.
func TestFirstEventIsNotificationWhateverHappenedBeforeTheHubLooked(t *testing.T) {
	pg := pgtest.URL(t)
	for _, db := range []string{"sqlite", "postgres"} {
		for _, window := range []int{0, -1} {
			t.Run(fmt.Sprintf("%s/window=%d", db, window), func(t *testing.T) {
				url := filepath.Join(t.TempDir(), "beacon.db")
				if db == "postgres" {
					if pg == "" {
						t.Skip("no PostgreSQL to test on")
					}
					url = pgtest.URL(t)
				}
				testFirstEvents(t, newRigOn(t, url, stream.Options{Heartbeat: time.Hour, ResumeWindow: window}))
			})
		}
	}
}

func testFirstEvents(t *testing.T, r *rig) {
	ctx := context.Background()
	srv := serveStreams(t, r, nil, nil)
	// Nothing to replay: start reaches it live, so once it is read the hub
	// has looked past start, and looks again only when published to.
	early := openEvents(t, srv.URL, "0")
	start := r.post(t, "start")
	if ev := early.next(t); ev.id != start {
		t.Fatalf("early stream: first %+v, want the start at %d", ev, start)
	}
	if !r.hub.AwaitFanout(context.Background()) {
		t.Fatal("the hub did not catch up with its wake-ups")
	}

	// Round 1: x is posted, a stream resumes and its replay reads x, then
	// x is edited; z is posted and withdrawn. Nothing is published.
	x := r.create(t, &models.Notification{Title: "x", Level: "info"})
	mid := openEvents(t, srv.URL, strconv.FormatInt(start, 10))
	edited := "x edited"
	if _, err := r.store.UpdateNotification(ctx, x, store.NotificationPatch{Title: &edited}); err != nil {
		t.Fatal(err)
	}
	y := r.create(t, &models.Notification{Title: "y", Level: "info"})
	z := r.create(t, &models.Notification{Title: "z", Level: "info"})
	if _, err := r.store.WithdrawNotification(ctx, z); err != nil {
		t.Fatal(err)
	}
	r.publish(t)
	// Once m reaches the early stream, the hub has looked past round 1.
	m := r.post(t, "m")
	round1 := early.until(t, m)
	// m's wake-up may have come during the look that sent m: the hub then
	// looks once more, which must be over before round 2.
	if !r.hub.AwaitFanout(context.Background()) {
		t.Fatal("the hub did not catch up with its wake-ups")
	}
	// Round 2: the issue's own case, an edit behind another post in one
	// look; and a replacement by key behind another post.
	a := r.create(t, &models.Notification{Title: "a", Level: "info"})
	b := r.create(t, &models.Notification{Title: "b", Level: "info"})
	aEdited := "a edited"
	if _, err := r.store.UpdateNotification(ctx, a, store.NotificationPatch{Title: &aEdited}); err != nil {
		t.Fatal(err)
	}
	key := "k"
	k := r.create(t, &models.Notification{Title: "k1", Level: "info", Key: &key})
	c := r.create(t, &models.Notification{Title: "c", Level: "info"})
	if _, err := r.store.CreateOrReplaceNotification(ctx, &models.Notification{Title: "k2", Level: "info", Key: &key}); err != nil {
		t.Fatal(err)
	}
	r.publish(t)
	end := r.post(t, "end")
	late := openEvents(t, srv.URL, strconv.FormatInt(start, 10))

	want := []string{
		fmt.Sprintf("notification %d x edited", x),
		fmt.Sprintf("notification %d y", y),
		fmt.Sprintf("notification %d m", m),
		// A notification goes at its first position, in its latest state:
		// a before b, the replaced k before c.
		fmt.Sprintf("notification %d a edited", a),
		fmt.Sprintf("notification %d b", b),
		fmt.Sprintf("notification %d k2", k),
		fmt.Sprintf("notification %d c", c),
		fmt.Sprintf("notification %d end", end),
	}
	if got := append(round1, early.until(t, end)...); !equal(got, want) {
		t.Errorf("a stream open before the changes got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := late.until(t, end); !equal(got, want) {
		t.Errorf("a stream resuming after the changes got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The stream whose replay read x before its edit: that is its
	// `notification`; the edit is an update. With the window, its replay
	// came from memory, which covers the hub's cursor: x comes live.
	wantMid := append([]string{
		fmt.Sprintf("notification %d x", x),
		fmt.Sprintf("update %d x edited", x),
	}, want[1:]...)
	if got := mid.until(t, end); !equal(got, wantMid) && !equal(got, want) {
		t.Errorf("a stream whose replay read x got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantMid, "\n"))
	}
}

// newRigOn is newRig on the database at url: a SQLite path or a
// PostgreSQL URL.
func newRigOn(t testing.TB, url string, opts stream.Options) *rig {
	t.Helper()
	return newRigReading(t, url, opts, func(st *store.Store) stream.Source { return st })
}

// newRigReading is newRigOn with the hub reading through source(st): the
// real store, with a step of the test's between reads.
func newRigReading(t testing.TB, url string, opts stream.Options, source func(*store.Store) stream.Source) *rig {
	t.Helper()
	return newRigRendering(t, url, opts, source, components.NotificationJSON)
}

// newRigRendering is newRigReading with the hub rendering by encode.
func newRigRendering(t testing.TB, url string, opts stream.Options, source func(*store.Store) stream.Source, encode stream.Encoder) *rig {
	t.Helper()
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	b := broker.NewMemory()
	hub, err := stream.NewHub(context.Background(), source(st), encode, b, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{store: st, broker: b, hub: hub, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.hub.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		st.Close()
	})
	return r
}

// create stores n without telling the hub, which then has not looked.
func (r *rig) create(t testing.TB, n *models.Notification) int64 {
	t.Helper()
	if _, err := r.store.CreateOrReplaceNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return n.ID
}

// publish lets the hub look.
func (r *rig) publish(t testing.TB) {
	t.Helper()
	if err := r.broker.Publish(context.Background(), broker.NotificationsTopic); err != nil {
		t.Fatal(err)
	}
}

// eventReader reads a stream's events as "kind id title" lines.
type eventReader struct {
	events chan sseEvent
}

type sseEvent struct {
	id    int64
	kind  string
	data  string
	title string
	nid   int64
}

func openEvents(t *testing.T, url, lastEventID string) *eventReader {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Last-Event-ID", lastEventID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	e := &eventReader{events: make(chan sseEvent, 64)}
	go func() {
		defer close(e.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.kind != "" {
					e.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				ev.kind = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
				ev.nid, ev.title = dataFields(line[6:])
			}
		}
	}()
	return e
}

// dataFields picks "id" and "title" out of an event's JSON data.
func dataFields(data string) (int64, string) {
	var id int64
	var title string
	if _, rest, ok := strings.Cut(data, `"id":`); ok {
		end := strings.IndexAny(rest, ",}")
		id, _ = strconv.ParseInt(rest[:end], 10, 64)
	}
	if _, rest, ok := strings.Cut(data, `"title":"`); ok {
		title, _, _ = strings.Cut(rest, `"`)
	}
	return id, title
}

func (e *eventReader) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-e.events:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return sseEvent{}
	}
}

// until returns the stream's events up to and including position end, as
// "kind id title" lines (a withdrawal has no title).
func (e *eventReader) until(t *testing.T, end int64) []string {
	t.Helper()
	var got []string
	for {
		ev := e.next(t)
		if ev.kind == "unread" {
			continue
		}
		got = append(got, strings.TrimSpace(fmt.Sprintf("%s %d %s", ev.kind, ev.nid, ev.title)))
		if ev.id >= end {
			return got
		}
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
