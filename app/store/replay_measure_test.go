package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/models"
	"beacon/app/pgtest"
	"beacon/app/store"
)

// A stream resuming 1,000 positions of mixed changes (posts, edits,
// replacements by key, withdrawals, others' notifications) through the real
// app: its queries do not grow with the events, and its time is logged
// (go test -v -run MeasureReplay ./app/store/).
func TestMeasureReplay(t *testing.T) {
	dbs := map[string]string{"sqlite": ""}
	if url := pgtest.URL(t); url != "" {
		dbs["postgres"] = url
	}
	for name, url := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			app := apptest.New(t, apptest.Options{DatabaseURL: url})
			reader := app.CreateUser(t, "Reader", "reader@example.com", "password reader", false)
			other := app.CreateUser(t, "Other", "other@example.com", "password other", false)
			s := app.Store
			var ids []int64
			post := func(i int) {
				n := models.Notification{Title: fmt.Sprint("n", i), Level: "info"}
				switch i % 10 {
				case 0:
					n.RecipientID = &reader.ID
				case 5:
					n.RecipientID = &other.ID
				}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, n.ID)
			}
			for i := range 500 {
				post(i)
			}
			after, err := s.LastPosition(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// 1,000 positions: 450 posts, 350 edits, 100 replacements, 100 withdrawals.
			for i := range 1000 {
				var err error
				switch i % 20 {
				case 0, 1, 2, 3, 4, 5, 6, 7, 8:
					post(500 + i)
				case 9, 10, 11, 12, 13, 14, 15:
					title := fmt.Sprint("edit ", i)
					_, err = s.UpdateNotification(ctx, ids[(i*7919)%len(ids)], store.NotificationPatch{Title: &title})
				case 16, 17:
					key := fmt.Sprint("job", i%7)
					n := models.Notification{Title: fmt.Sprint("progress ", i), Level: "info", Key: &key}
					_, err = s.CreateOrReplaceNotification(ctx, &n)
				default:
					_, err = s.WithdrawNotification(ctx, ids[(i*104729)%len(ids)])
				}
				if errors.Is(err, store.ErrNotFound) {
					post(500 + i) // it was withdrawn: still 1,000 positions
					err = nil
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			want, err := s.ChangesAfter(ctx, reader.ID, after, 2000)
			if err != nil {
				t.Fatal(err)
			}
			// Registering callbacks races with queries: only while the app is down.
			app.Down(t)
			queries, err := s.CountQueries()
			if err != nil {
				t.Fatal(err)
			}
			app.Up(t)
			c := app.Client(t)
			c.Login(t, "reader@example.com", "password reader")

			queries.Store(0)
			start := time.Now()
			stream := c.OpenStream(t, strconv.FormatInt(after, 10))
			kinds := map[string]int{}
			for {
				ev := stream.NextEvent(t, 10*time.Second)
				if ev.Event == "unread" {
					break // sent right after the replay
				}
				if ev.Event != "" {
					kinds[ev.Event]++
				}
			}
			took, n := time.Since(start), queries.Load()
			events := kinds["notification"] + kinds["update"] + kinds["withdraw"]
			if events != len(want) || kinds["reset"] != 0 {
				t.Fatalf("replayed %v, want the %d changes the store has", kinds, len(want))
			}
			t.Logf("%s: replay of 1,000 positions for one user: %d events %v in %v, %d queries (sign-in check, cursor checks, one page, "+
				"the state number and the replayed ones' state, unread count)", name, events, kinds, took.Round(time.Millisecond), n)
			if n > 14 {
				t.Fatalf("%d queries for one replay: they must not grow with its events", n)
			}
		})
	}
}
