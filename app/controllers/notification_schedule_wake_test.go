package controllers_test

import (
	"encoding/json"
	"testing"
	"time"

	"beacon/app/apptest"
)

// A post due in a moment wakes the scheduler (broker.ScheduleTopic): it
// goes out at its time, not at the scheduler's next once-a-second look.
// Plain posts no longer wake the scheduler, so this is what keeps a
// post due soon on time. After a look that finds nothing due the
// scheduler sleeps its second, so without the wake a post due soon is most
// of a second late (seen: the first, 0.9 s, on both databases).
func TestAPostDueSoonWakesTheScheduler(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		s := app.Client(t).OpenStream(t, "")
		s.NextEvent(t, 5*time.Second) // retry
		const lead, allowed = 100 * time.Millisecond, 500 * time.Millisecond
		for i := range 4 {
			due := time.Now().Add(lead)
			id := app.Notify(t, token, map[string]string{"title": "soon", "deliver_at": due.UTC().Format(time.RFC3339Nano)})
			ev := s.NextEvent(t, 5*time.Second)
			late := time.Since(due)
			var d struct{ ID int64 }
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil || ev.Event != "notification" || d.ID != id {
				t.Fatalf("post %d: got %+v, want notification %d", i, ev, id)
			}
			if late > allowed {
				t.Fatalf("post %d arrived %v after its time, want within %v", i, late, allowed)
			}
		}
	})
}
