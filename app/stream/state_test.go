package stream_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/stream"
)

// stateServer serves user's streams, taken over by the hub when takeOver
// (HTTP/1.1) or kept in their handlers, passing ?state_after= on.
func stateServer(t testing.TB, r *rig, userID int64, takeOver bool, held *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sr := stream.Request{UserID: userID, LastEventID: req.Header.Get("Last-Event-ID"),
			StateAfter: req.URL.Query().Get("state_after"), SignedIn: func() bool { return true }}
		if takeOver {
			sr.Request = req
			sr.TakenOver = func() func() {
				held.Add(1)
				return func() { held.Add(-1) }
			}
		}
		if err := r.hub.Stream(req.Context(), w, sr); err != nil {
			t.Errorf("stream: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (r *rig) user(t testing.TB, name string) models.User {
	t.Helper()
	u := models.User{Name: name, Email: name + "@example.com", PasswordHash: "x"}
	if err := r.store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// change makes a state change for u and wakes u's topic, as the
// controllers do.
func (r *rig) change(t *testing.T, u models.User, change func(ctx context.Context) error) {
	t.Helper()
	ctx := context.Background()
	if err := change(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.broker.Publish(ctx, broker.UserTopic(u.ID)); err != nil {
		t.Fatal(err)
	}
}

// nextState is the stream's next state event's data, and the unread count
// that follows it.
func (e *eventReader) nextState(t *testing.T) (state, unread string) {
	t.Helper()
	ev := e.next(t)
	for ev.kind == "unread" { // a count from before the change
		ev = e.next(t)
	}
	if ev.kind != "state" {
		t.Fatalf("%s %d %s, want a state event", ev.kind, ev.id, ev.data)
	}
	if ev.id != 0 {
		t.Errorf("state event with id %d: state has no id line", ev.id)
	}
	count := e.next(t)
	if count.kind != "unread" {
		t.Fatalf("after a state event: %s %s, want the unread count", count.kind, count.data)
	}
	return ev.data, count.data
}

// A change of a user's read or archive state reaches every open stream of
// theirs, kept in its handler or taken over, as `state`, followed by
// their unread count, and nobody else's.
func TestStateChangesReachEveryStreamOfTheUser(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	ann, bob := r.user(t, "ann"), r.user(t, "bob")
	n1, n2 := r.post(t, "one"), r.post(t, "two")
	var held atomic.Int64
	taken := stateServer(t, r, ann.ID, true, &held)
	inHandler := stateServer(t, r, ann.ID, false, nil)
	bobs := stateServer(t, r, bob.ID, true, &held)
	anns := []*eventReader{openEvents(t, taken.URL, ""), openEvents(t, taken.URL, ""), openEvents(t, inHandler.URL, "")}
	bobStream := openEvents(t, bobs.URL, "")
	for _, s := range append(anns, bobStream) {
		if ev := s.next(t); ev.kind != "unread" || ev.data != `{"unread":2}` {
			t.Fatalf("first event %s %s, want the unread count 2", ev.kind, ev.data)
		}
	}
	waitUntil(t, "three streams are taken over", func() bool { return held.Load() == 3 })

	steps := []struct {
		change func(ctx context.Context) error
		state  string
		unread string
	}{
		{func(ctx context.Context) error { return r.store.MarkRead(ctx, ann.ID, n1) },
			fmt.Sprintf(`{"ids":[%d],"read":true}`, n1), `{"unread":1}`},
		{func(ctx context.Context) error { return r.store.SetArchived(ctx, ann.ID, n2, true) },
			fmt.Sprintf(`{"ids":[%d],"archived":true}`, n2), `{"unread":1}`},
		{func(ctx context.Context) error { return r.store.MarkUnread(ctx, ann.ID, n1) },
			fmt.Sprintf(`{"ids":[%d],"read":false}`, n1), `{"unread":2}`},
		{func(ctx context.Context) error { return r.store.MarkAllRead(ctx, ann.ID, n2) },
			fmt.Sprintf(`{"all":true,"read":true,"through":%d}`, n2), `{"unread":0}`},
		{func(ctx context.Context) error { return r.store.SetArchived(ctx, ann.ID, n2, false) },
			fmt.Sprintf(`{"ids":[%d],"archived":false}`, n2), `{"unread":0}`},
	}
	for i, step := range steps {
		r.change(t, ann, step.change)
		for j, s := range anns {
			state, unread := s.nextState(t)
			if state != step.state || unread != step.unread {
				t.Errorf("step %d, stream %d: state %s then %s, want %s then %s", i, j, state, unread, step.state, step.unread)
			}
		}
	}
	// Bob's stream heard nothing of Ann's: its next event is his own.
	r.change(t, bob, func(ctx context.Context) error { return r.store.MarkRead(ctx, bob.ID, n2) })
	if state, _ := bobStream.nextState(t); state != fmt.Sprintf(`{"ids":[%d],"read":true}`, n2) {
		t.Errorf("bob's first state event: %s", state)
	}
}

// A stream that names the state number its client holds (?state_after=)
// is sent every change after it, in order, runs of one kind in one event;
// one it cannot be brought up to date from is reset.
func TestStreamCatchesUpOnStateChanges(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	ann := r.user(t, "ann")
	n1, n2, n3 := r.post(t, "one"), r.post(t, "two"), r.post(t, "three")
	ctx := context.Background()
	for _, err := range []error{
		r.store.MarkRead(ctx, ann.ID, n1),          // 1
		r.store.MarkRead(ctx, ann.ID, n2),          // 2
		r.store.SetArchived(ctx, ann.ID, n3, true), // 3
		r.store.MarkRead(ctx, ann.ID, n3),          // 4
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var held atomic.Int64
	srv := stateServer(t, r, ann.ID, true, &held)
	open := func(after string) *eventReader {
		return openEvents(t, srv.URL+"/?state_after="+after, fmt.Sprint(n3))
	}
	for _, tc := range []struct {
		after string
		want  []string
	}{
		{"0", []string{
			fmt.Sprintf(`state {"ids":[%d,%d],"read":true}`, n1, n2),
			fmt.Sprintf(`state {"ids":[%d],"archived":true}`, n3),
			fmt.Sprintf(`state {"ids":[%d],"read":true}`, n3),
			`unread {"unread":0}`}},
		{"2", []string{
			fmt.Sprintf(`state {"ids":[%d],"archived":true}`, n3),
			fmt.Sprintf(`state {"ids":[%d],"read":true}`, n3),
			`unread {"unread":0}`}},
		{"4", []string{`unread {"unread":0}`}},
		// Past the newest, or no number: the client reloads.
		{"5", []string{fmt.Sprintf(`reset %d {"last_id":%d}`, n3, n3), `unread {"unread":0}`}},
		{"x", []string{fmt.Sprintf(`reset %d {"last_id":%d}`, n3, n3), `unread {"unread":0}`}},
	} {
		s := open(tc.after)
		for i, want := range tc.want {
			ev := s.next(t)
			got := ev.kind + " " + ev.data
			if ev.kind == "reset" {
				got = fmt.Sprintf("reset %d %s", ev.id, ev.data)
			}
			if got != want {
				t.Errorf("state_after=%s, event %d: %s, want %s", tc.after, i, got, want)
			}
		}
	}

	// Changes pruned since the client's number: it reloads too.
	if _, err := r.store.PruneStateChangesBefore(ctx, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ev := open("2").next(t); ev.kind != "reset" {
		t.Errorf("after its changes were pruned: %s %s, want reset", ev.kind, ev.data)
	}
	if ev := open("4").next(t); ev.kind != "unread" {
		t.Errorf("up to date though pruned: %s %s, want the unread count", ev.kind, ev.data)
	}
}

// A user's streams on one instance share one look at what changed: thirty
// tabs cost the queries of one, not thirty times as many.
func TestStateChangeToManyStreamsIsOneLook(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	ann := r.user(t, "ann")
	n1 := r.post(t, "one")
	var held atomic.Int64
	srv := stateServer(t, r, ann.ID, true, &held)
	const tabs = 30
	streams := make([]*eventReader, tabs)
	for i := range streams {
		streams[i] = openEvents(t, srv.URL, "")
		streams[i].next(t) // the first count
	}
	waitUntil(t, "every stream is taken over", func() bool { return held.Load() == tabs })
	if err := r.store.MarkRead(context.Background(), ann.ID, n1); err != nil {
		t.Fatal(err)
	}
	before := r.store.Queries()
	if err := r.broker.Publish(context.Background(), broker.UserTopic(ann.ID)); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		s.nextState(t)
	}
	// The user's groups, their state number and changes, one count.
	if q := r.store.Queries() - before; q > 4 {
		t.Errorf("a state change to %d tabs took %d queries, want at most 4", tabs, q)
	}
}

// A stream that resumes without a state number (a script) is told, after
// the replay, which of the replayed notifications are read and which
// archived, from the resume window and from the database alike.
func TestResumedStreamIsToldTheStateOfWhatItReplays(t *testing.T) {
	for _, window := range []int{0, -1} { // the default window; none
		t.Run(fmt.Sprintf("window %d", window), func(t *testing.T) {
			r := newRig(t, stream.Options{Heartbeat: time.Hour, ResumeWindow: window})
			ann := r.user(t, "ann")
			n1, n2, n3 := r.post(t, "one"), r.post(t, "two"), r.post(t, "three")
			ctx := context.Background()
			if err := r.store.MarkRead(ctx, ann.ID, n2); err != nil {
				t.Fatal(err)
			}
			if err := r.store.SetArchived(ctx, ann.ID, n3, true); err != nil {
				t.Fatal(err)
			}
			var held atomic.Int64
			srv := stateServer(t, r, ann.ID, true, &held)
			s := openEvents(t, srv.URL, fmt.Sprint(n1))
			var got []string
			for ev := s.next(t); ; ev = s.next(t) {
				got = append(got, ev.kind+" "+ev.data)
				if ev.kind == "unread" {
					break
				}
			}
			want := []string{
				fmt.Sprintf(`state {"ids":[%d],"read":true}`, n2),
				fmt.Sprintf(`state {"ids":[%d],"archived":true}`, n3),
				`unread {"unread":2}`, // one and three: archived is still unread
			}
			if len(got) != 5 || !equal(got[2:], want) {
				t.Errorf("resumed from %d: %q, want two notifications then %q", n1, got, want)
			}
		})
	}
}
