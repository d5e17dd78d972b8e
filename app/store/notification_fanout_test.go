package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"beacon/app/models"
)

// The hub's query keeps what ChangesAfter leaves out for a client, the
// withdrawal of one posted after the cursor (a stream's replay may have sent
// it before the hub looked), and still leaves out scheduled ones.
func TestAllChangesAndWithdrawalsAfter(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			post := func(n models.Notification) models.Notification {
				n.Level = "info"
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			cursor := post(models.Notification{Title: "seen"}).Position
			gone := post(models.Notification{Title: "gone"})
			w := must(s.WithdrawNotification(ctx, gone.ID))
			later := time.Now().Add(time.Hour)
			post(models.Notification{Title: "scheduled", DeliverAt: &later})
			kept := post(models.Notification{Title: "kept"})

			if ns := must(s.ChangesAfter(ctx, 0, cursor, 10)); len(ns) != 1 || ns[0].ID != kept.ID {
				t.Fatalf("ChangesAfter: %+v, want kept alone", ns)
			}
			ns := must(s.AllChangesAndWithdrawalsAfter(ctx, cursor, 10))
			if len(ns) != 2 || ns[0].ID != gone.ID || !ns[0].Withdrawn() || ns[0].Position != w.Position || ns[1].ID != kept.ID {
				t.Fatalf("AllChangesAndWithdrawalsAfter: %+v, want gone withdrawn, then kept", ns)
			}
		})
	}
}

// A row whose updated_at is NULL (SQLite's column allows it: migration
// 00005 added it so) is read as the zero time by the hub's look, as GORM
// read it, instead of failing every look and stopping live delivery.
func TestHubLookReadsANullUpdatedAt(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	n := models.Notification{Title: "edited by hand", Level: "info"}
	if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Exec("UPDATE notifications SET updated_at = NULL WHERE id = ?", n.ID).Error; err != nil {
		t.Fatal(err)
	}
	ns, err := s.AllChangesAndWithdrawalsAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].ID != n.ID || !ns[0].UpdatedAt.IsZero() || ns[0].Title != n.Title {
		t.Fatalf("got %+v, want notification %d with a zero updated_at", ns, n.ID)
	}
}
