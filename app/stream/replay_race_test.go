package stream_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/models"
	"beacon/app/pgtest"
	"beacon/app/store"
	"beacon/app/stream"
	"beacon/views/components"
)

// betweenReads is the store, with step run once just before a replay's
// query of the changes, after its other reads: as when a change commits
// between them.
type betweenReads struct {
	*store.Store
	once sync.Once
	step func()
}

func (b *betweenReads) ReplayAfter(ctx context.Context, userID, after int64, limit int) (models.Replay, error) {
	b.once.Do(b.step)
	return b.Store.ReplayAfter(ctx, userID, after, limit)
}

// A notification withdrawn between a database replay's reads is nothing
// to a client that never had it: the replay leaves it out, and the live
// withdrawal that follows must not reach the stream either.
func TestWithdrawalBetweenTheReplaysReadsIsNotSentLive(t *testing.T) {
	pg := pgtest.URL(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			url := filepath.Join(t.TempDir(), "beacon.db")
			if db == "postgres" {
				if pg == "" {
					t.Skip("no PostgreSQL to test on")
				}
				url = pgtest.URL(t)
			}
			var x int64
			var r *rig
			reads := &betweenReads{step: func() {
				// Not published: the hub looks only after the replay.
				if _, err := r.store.WithdrawNotification(context.Background(), x); err != nil {
					t.Error(err)
				}
			}}
			r = newRigReading(t, url, stream.Options{Heartbeat: time.Hour, ResumeWindow: -1},
				func(st *store.Store) stream.Source { reads.Store = st; return reads })
			srv := serveStreams(t, r, nil, nil)
			start := r.post(t, "start")
			x = r.post(t, "x")
			y := r.post(t, "y")
			if !r.hub.AwaitFanout(context.Background()) {
				t.Fatal("the hub did not catch up with its wake-ups")
			}
			resumed := openEvents(t, srv.URL, strconv.FormatInt(start, 10))
			// Its replay has run once y arrives; then the hub may look.
			if got := resumed.until(t, y); !equal(got, []string{fmt.Sprintf("notification %d y", y)}) {
				t.Fatalf("resumed stream's replay: %q, want y alone", got)
			}
			r.publish(t)
			end := r.post(t, "end")
			want := []string{fmt.Sprintf("notification %d end", end)}
			if got := resumed.until(t, end); !equal(got, want) {
				t.Errorf("a stream resuming from before x, withdrawn during its replay, got\n%s\nwant\n%s",
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A hub stopped while it renders a change stops, with a stream open: the
// change it could not render is not offered to the stream as nothing.
func TestHubStoppedWhileRenderingStops(t *testing.T) {
	rendering := make(chan struct{}, 1)
	encode := func(ctx context.Context, n models.Notification) ([]byte, error) {
		if n.Title == "slow" {
			rendering <- struct{}{}
			<-ctx.Done()
			return nil, fmt.Errorf("render: %w", ctx.Err())
		}
		return components.NotificationJSON(ctx, n)
	}
	r := newRigRendering(t, filepath.Join(t.TempDir(), "beacon.db"), stream.Options{Heartbeat: time.Hour},
		func(st *store.Store) stream.Source { return st }, encode)
	srv := serveStreams(t, r, nil, nil)
	open := openEvents(t, srv.URL, "")
	first := r.post(t, "first")
	if got := open.until(t, first); !equal(got, []string{fmt.Sprintf("notification %d first", first)}) {
		t.Fatalf("open stream: %q, want first", got)
	}
	// An edit: the change of one the hub fanned out already.
	slow := "slow"
	if _, err := r.store.UpdateNotification(context.Background(), first, store.NotificationPatch{Title: &slow}); err != nil {
		t.Fatal(err)
	}
	r.publish(t)
	<-rendering
	r.cancel()
	r.cancel = nil // stopped here, not by the cleanup
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("hub: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not stop within 10s of its context ending mid-render")
	}
}
