package store

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// A batch is stored whole, at positions in its order: plain posts, one
// that replaces a live one by key, and two with one new key, the second
// replacing the first.
func TestABatchIsStoredInItsOrder(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			deploy, fresh := "deploy", "fresh"
			old := models.Notification{Title: "deploying", Level: "info", Key: &deploy}
			if err := s.CreateNotification(ctx, &old); err != nil {
				t.Fatal(err)
			}
			ns := []*models.Notification{
				{Title: "one", Level: "info"},
				{Title: "two", Level: "info"},
				{Title: "deployed", Level: "success", Key: &deploy},
				{Title: "three", Level: "info"},
				{Title: "fresh 1", Level: "info", Key: &fresh},
				{Title: "fresh 2", Level: "info", Key: &fresh},
				{Title: "four", Level: "warning"},
			}
			replaced := must(s.CreateOrReplaceNotifications(ctx, ns))
			want := []bool{false, false, true, false, false, true, false}
			last := old.Position
			for i, n := range ns {
				if replaced[i] != want[i] || n.Position <= last {
					t.Fatalf("item %d: %+v replaced %v (want %v), after position %d", i, n, replaced[i], want[i], last)
				}
				last = n.Position
			}
			if ns[2].ID != old.ID || ns[5].ID != ns[4].ID || ns[0].ID != ns[0].Position {
				t.Fatalf("replacements kept the wrong ids: %+v", ns)
			}
			var rows []models.Notification
			if err := s.db.Order("position").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, n := range rows {
				titles = append(titles, n.Title)
			}
			if got := titles; len(got) != 6 || got[0] != "one" || got[2] != "deployed" || got[4] != "fresh 2" || got[5] != "four" {
				t.Fatalf("stored in position order: %v", got)
			}
		})
	}
}

// One refused item stores nothing of its batch, and says which it was;
// posts waiting in the same group are stored all the same.
func TestABatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			key := "deploy"
			delivered := models.Notification{Title: "delivered", Level: "info", Key: &key}
			if err := s.CreateNotification(ctx, &delivered); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Hour)
			gone := int64(1 << 40)
			for _, c := range []struct {
				what  string
				bad   *models.Notification
				index int
				err   error
			}{
				{"scheduling a delivered one again", &models.Notification{Title: "again", Level: "info", Key: &key, DeliverAt: &later}, 2, ErrAlreadyDelivered},
				{"a recipient deleted since", &models.Notification{Title: "to nobody", Level: "info", RecipientID: &gone}, 2, gorm.ErrForeignKeyViolated},
			} {
				before := must(s.LastPosition(ctx))
				s.group.turn <- struct{}{} // gather the batch and a post in one group
				batch := make(chan error, 1)
				go func() {
					_, err := s.CreateOrReplaceNotifications(ctx, []*models.Notification{
						{Title: "one", Level: "info"}, {Title: "two", Level: "info"}, c.bad, {Title: "four", Level: "info"},
					})
					batch <- err
				}()
				alone := models.Notification{Title: "alone", Level: "info"}
				posted := make(chan error, 1)
				go func() { posted <- s.CreateNotification(ctx, &alone) }()
				for waitingTxs(s) < 2 {
					runtime.Gosched()
				}
				<-s.group.turn
				err := <-batch
				var be *BatchError
				if !errors.As(err, &be) || !errors.Is(err, c.err) {
					t.Fatalf("%s: %v, want a BatchError for %v", c.what, err, c.err)
				}
				// PostgreSQL stores the posts without a key in one
				// statement, and is not told which of them it refused.
				if be.Index != c.index && !(name == "postgres" && c.err == gorm.ErrForeignKeyViolated && be.Index == -1) {
					t.Fatalf("%s: item %d refused, want %d", c.what, be.Index, c.index)
				}
				if err := <-posted; err != nil {
					t.Fatalf("%s: the post in the same group: %v", c.what, err)
				}
				var titles []string
				if err := s.db.Model(&models.Notification{}).Where("position > ?", before).Order("position").Pluck("title", &titles).Error; err != nil {
					t.Fatal(err)
				}
				if len(titles) != 1 || titles[0] != "alone" {
					t.Fatalf("%s: stored %v, want the other post alone", c.what, titles)
				}
			}
		})
	}
}
