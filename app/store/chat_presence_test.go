package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"beacon/app/models"
	"beacon/app/store"
)

func TestChatPresenceAcrossHolders(t *testing.T) {
	ctx := context.Background()
	for name, st := range store.OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ids := map[string]int64{}
			for _, n := range []string{"Ann", "Bob", "Cy", "Dan"} {
				u := models.User{Name: n, Email: n + "@example.com", PasswordHash: "x"}
				if err := st.CreateUser(ctx, &u); err != nil {
					t.Fatal(err)
				}
				ids[n] = u.ID
			}
			now := time.Now()
			later := now.Add(time.Minute)
			set := func(room, holder string, expires time.Time, names ...string) {
				t.Helper()
				var us []int64
				for _, n := range names {
					us = append(us, ids[n])
				}
				if err := st.SetChatPresence(ctx, room, holder, us, expires); err != nil {
					t.Fatal(err)
				}
			}
			online := func(room, except string, at time.Time) []string {
				t.Helper()
				us, err := st.ChatOnline(ctx, room, except, at)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, u := range us {
					names = append(names, u.Name)
				}
				return names
			}
			want := func(got []string, names ...string) {
				t.Helper()
				if !slices.Equal(got, names) {
					t.Fatalf("online %v, want %v", got, names)
				}
			}

			set("general", "a", later, "Ann", "Bob")
			set("general", "b", later, "Bob", "Cy")
			set("other", "a", later, "Dan")
			want(online("general", "", now), "Ann", "Bob", "Cy") // Bob once
			want(online("general", "a", now), "Bob", "Cy")
			want(online("other", "b", now), "Dan")

			set("general", "a", later, "Ann") // Bob left a, is still on b
			want(online("general", "b", now), "Ann")
			set("general", "a", later) // a's goodbye
			want(online("general", "", now), "Bob", "Cy")
			want(online("other", "", now), "Dan") // another room's rows stay

			// A killed holder's rows: not online once expired, and deleted by
			// the next write of anyone in the room.
			set("general", "killed", now.Add(-time.Millisecond), "Dan")
			want(online("general", "", now), "Bob", "Cy")
			want(online("general", "", now.Add(-time.Hour)), "Bob", "Cy", "Dan")
			set("general", "b", later, "Bob", "Cy")
			want(online("general", "", now.Add(-time.Hour)), "Bob", "Cy")
		})
	}
}
