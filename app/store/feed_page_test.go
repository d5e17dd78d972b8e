package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"beacon/app/models"
)

// Paging the feed back (Before) while notifications keep arriving between
// pages shows every one that was there when the first page was read
// exactly once, newest first, with or without a level filter; random
// posts, random page sizes.
func TestFeedPagesNeitherSkipNorRepeatWhileNewOnesArrive(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := user(t, s, "a@example.com"), user(t, s, "b@example.com")
			rng := rand.New(rand.NewPCG(1, 2))
			postRandom := func() {
				n := models.Notification{Title: fmt.Sprint("n", rng.IntN(1000)), Level: models.Levels[rng.IntN(len(models.Levels))]}
				switch rng.IntN(3) {
				case 1:
					n.RecipientID = &a.ID
				case 2:
					n.RecipientID = &b.ID
				}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
			}
			for range 150 {
				postRandom()
			}
			for round := range 6 {
				level := ""
				if round%2 == 1 {
					level = models.Levels[rng.IntN(len(models.Levels))]
				}
				all := must(s.FeedPage(ctx, a.ID, FeedFilter{Level: level}, 1000))
				var want, got []int64
				for _, n := range all {
					want = append(want, n.ID)
				}
				f := FeedFilter{Level: level}
				for {
					page := must(s.FeedPage(ctx, a.ID, f, 1+rng.IntN(30)))
					if len(page) == 0 {
						break
					}
					for _, n := range page {
						if n.RecipientID != nil && *n.RecipientID != a.ID || level != "" && n.Level != level {
							t.Fatalf("page for a, level %q, holds %+v", level, n)
						}
						got = append(got, n.ID)
					}
					f.Before = page[len(page)-1].FirstPosition
					for range rng.IntN(4) {
						postRandom()
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("round %d, level %q: paged %d %v\nwant %d %v", round, level, len(got), got, len(want), want)
				}
			}
		})
	}
}

// The search finds text in title or body in any case, and takes %, _,
// quotes and backslashes literally.
func TestFeedSearchTakesTextLiterally(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ids := map[string]int64{}
			for _, tb := range [][2]string{
				{"100% done", ""}, {"a_b", ""}, {`it's`, ""}, {`say "hi"`, ""}, {`back\slash`, ""},
				{"Plain Title", ""}, {"x", "the BODY text"}, {"ab", "cd"},
			} {
				n := models.Notification{Title: tb[0], Body: tb[1], Level: "info"}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
				ids[tb[0]] = n.ID
			}
			for q, want := range map[string][]string{
				"%":       {"100% done"},
				"0%":      {"100% done"},
				"_":       {"a_b"},
				"'":       {`it's`},
				`"hi"`:    {`say "hi"`},
				`\`:       {`back\slash`},
				`\s`:      {`back\slash`},
				"plain t": {"Plain Title"},
				"body":    {"x"},
				"bc":      nil, // not across title and body
				"zzz":     nil,
			} {
				var got []string
				for _, n := range must(s.FeedPage(ctx, 0, FeedFilter{Q: q}, 50)) {
					got = append(got, n.Title)
				}
				if !slices.Equal(got, want) {
					t.Errorf("?q=%s: %q, want %q", q, got, want)
				}
			}
		})
	}
}

// Archiving takes a notification out of the user's pages and into their
// archive, for them alone; one they may not see cannot be archived.
func TestArchivingMovesANotificationToTheUsersArchive(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := user(t, s, "a@example.com"), user(t, s, "b@example.com")
			all, mine, bobs := post(t, s, nil), post(t, s, &a), post(t, s, &b)
			titles := func(u int64, f FeedFilter) []int64 {
				var ids []int64
				for _, n := range must(s.FeedPage(ctx, u, f, 50)) {
					ids = append(ids, n.ID)
				}
				return ids
			}
			for _, id := range []int64{all, mine} {
				if err := s.SetArchived(ctx, a.ID, id, true); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetArchived(ctx, a.ID, all, true); err != nil {
				t.Fatalf("archiving twice: %v", err)
			}
			if err := s.SetArchived(ctx, a.ID, bobs, true); !errors.Is(err, ErrNotFound) {
				t.Fatalf("archiving Bob's: %v, want ErrNotFound", err)
			}
			if got := titles(a.ID, FeedFilter{}); len(got) != 0 {
				t.Errorf("a's feed after archiving both: %v", got)
			}
			if got := titles(a.ID, FeedFilter{Archived: true}); !slices.Equal(got, []int64{mine, all}) {
				t.Errorf("a's archive: %v, want [%d %d]", got, mine, all)
			}
			if got := titles(b.ID, FeedFilter{}); !slices.Equal(got, []int64{bobs, all}) {
				t.Errorf("b's feed: %v, want [%d %d] (a's archive is a's)", got, bobs, all)
			}
			if got := titles(0, FeedFilter{Archived: true}); len(got) != 0 {
				t.Errorf("a visitor's archive: %v", got)
			}
			if err := s.SetArchived(ctx, a.ID, all, false); err != nil {
				t.Fatal(err)
			}
			if got := titles(a.ID, FeedFilter{}); !slices.Equal(got, []int64{all}) {
				t.Errorf("a's feed after unarchiving: %v", got)
			}
			if _, got, err := s.NotificationStates(ctx, a.ID, []int64{all, mine, bobs}); err != nil || !slices.Equal(got, []int64{mine}) {
				t.Errorf("archived ids: %v (%v), want [%d]", got, err, mine)
			}
		})
	}
}
