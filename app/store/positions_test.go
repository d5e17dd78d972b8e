package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"beacon/app/models"
	"beacon/migrations"
)

// A reader that follows positions, as the hub does, never skips a change,
// even with concurrent writers posting, editing and replacing: when a
// write returns, every smaller position is committed too.
func TestConcurrentChangesBecomeVisibleInPositionOrder(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			const writers, each = 6, 20
			seen := map[int64]bool{} // positions the follower received
			stop := make(chan struct{})
			followed := make(chan error, 1)
			go func() {
				var cursor int64
				follow := func() error {
					for {
						ns, err := s.AllChangesAndWithdrawalsAfter(ctx, cursor, 500)
						if err != nil {
							return err
						}
						for _, n := range ns {
							seen[n.Position] = true
							cursor = n.Position
						}
						if len(ns) < 500 {
							return nil
						}
					}
				}
				for {
					select {
					case <-stop:
						followed <- follow() // a last look after every writer returned
						return
					default:
						if err := follow(); err != nil {
							followed <- err
							return
						}
					}
				}
			}()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					var mine []int64
					for i := range each {
						var err error
						switch {
						case i%3 == 2 && len(mine) > 0:
							_, err = s.UpdateNotification(ctx, mine[i%len(mine)], NotificationPatch{Title: ptr(fmt.Sprint("edit ", w, i))})
						case i%3 == 1:
							n := models.Notification{Title: fmt.Sprint(w, i), Level: "info", Key: ptr(fmt.Sprint("k", w))}
							_, err = s.CreateOrReplaceNotification(ctx, &n)
						default:
							n := models.Notification{Title: fmt.Sprint(w, i), Level: "info"}
							_, err = s.CreateOrReplaceNotification(ctx, &n)
							mine = append(mine, n.ID)
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(stop)
			if err := <-followed; err != nil {
				t.Fatal(err)
			}
			ns, err := s.AllChangesAndWithdrawalsAfter(ctx, 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if !seen[n.Position] {
					t.Errorf("notification %d at position %d became visible behind the follower", n.ID, n.Position)
				}
			}
		})
	}
}

// Rows from before the migration start at position = id, and the
// sequence carries on from them; migrating down (`beacon migrate down`)
// and up again keeps them.
func TestMigrationGivesExistingRowsTheirIDAsPosition(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			p, err := migrations.NewProvider(s.SQL(), s.Dialect(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 4); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := s.db.Exec("INSERT INTO notifications (title, level, created_at) VALUES ('old', 'info', ?)", timestamp()).Error; err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			ns := must(s.LatestNotifications(ctx, 10))
			for _, n := range ns {
				if n.Position != n.ID || n.FirstPosition != n.ID || n.UpdatedAt.IsZero() || n.Scheduled {
					t.Fatalf("migrated row: %+v", n)
				}
			}
			if id := post(t, s, nil); id != 4 {
				t.Fatalf("next id %d, want 4", id)
			}
			if _, err := p.Down(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			if ns := must(s.ChangesAfter(ctx, 0, 0, 10)); len(ns) != 4 || ns[3].Position != 4 {
				t.Fatalf("after down and up: %+v", ns)
			}
			if id := post(t, s, nil); id != 5 {
				t.Fatalf("next id %d, want 5", id)
			}
		})
	}
}
