package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"beacon/app/audience"
	"beacon/app/models"
)

func TestAddress(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ann, bob := user(t, s, "ann@example.com"), user(t, s, "bob@example.com")
			if _, err := s.CreateGroup(ctx, "ops", false); err != nil {
				t.Fatal(err)
			}
			count := func(table string) int64 {
				var n int64
				if err := s.db.Table(table).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}

			// Unknown entries: each named, by kind, nothing stored.
			_, err := s.Address(ctx, []string{"ann@example.com", "nobody@example.com", "group:ops", "group:nope", "group:"})
			var unknown *UnknownError
			if !errors.As(err, &unknown) || !errors.Is(err, ErrNotFound) ||
				err.Error() != "unknown user or group: nobody@example.com, group:nope, group:" {
				t.Fatalf("unknown entries: %v", err)
			}
			if count("audiences") != 0 || count("audience_members") != 0 {
				t.Fatal("an audience was stored for a refused address")
			}

			// Nobody: everyone. One user alone, in any case: the recipient.
			if a, err := s.Address(ctx, []string{" ", ""}); err != nil || a.RecipientID != nil || a.AudienceID != nil {
				t.Fatalf("blank entries: %+v, %v", a, err)
			}
			if a, err := s.Address(ctx, []string{"ANN@example.com", "ann@example.com"}); err != nil || a.RecipientID == nil || *a.RecipientID != ann.ID || a.AudienceID != nil {
				t.Fatalf("one user: %+v, %v", a, err)
			}

			// A set is stored once, whatever the order of its entries.
			a1, err := s.Address(ctx, []string{"group:ops", "bob@example.com", "ann@example.com"})
			if err != nil || a1.AudienceID == nil || len(a1.Addressees) != 3 {
				t.Fatalf("a list: %+v, %v", a1, err)
			}
			a2, err := s.Address(ctx, []string{"ann@example.com", "group:ops", "bob@example.com"})
			if err != nil || a2.AudienceID == nil || *a2.AudienceID != *a1.AudienceID {
				t.Fatalf("the same list again: %+v, %v, want audience %d", a2, err, *a1.AudienceID)
			}
			if count("audiences") != 1 || count("audience_members") != 3 {
				t.Fatalf("%d audiences, %d entries; want 1 and 3", count("audiences"), count("audience_members"))
			}

			// A key names one notification per audience: the same key to
			// another audience is another notification.
			key := "deploy"
			post := func(a Addressed, title string) (int64, bool) {
				n := models.Notification{Title: title, Level: "info", Key: &key}
				a.Apply(&n)
				replaced, err := s.CreateOrReplaceNotification(ctx, &n)
				if err != nil {
					t.Fatal(err)
				}
				return n.ID, replaced
			}
			first, _ := post(a1, "one")
			again, replaced := post(a2, "two")
			other, otherReplaced := post(Addressed{RecipientID: &bob.ID}, "bob's")
			if again != first || !replaced || other == first || otherReplaced {
				t.Fatalf("keys: %d then %d (replaced %v), bob's %d (replaced %v)", first, again, replaced, other, otherReplaced)
			}
			n, err := s.NotificationByID(ctx, first)
			if err != nil || n.AudienceID == nil || len(n.Addressees) != 3 || n.Title != "two" {
				t.Fatalf("stored: %+v, %v", n, err)
			}
		})
	}
}

// A thousand entries make one audience, stored in one transaction.
func TestAddressAThousand(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			var to []string
			for i := range models.MaxAudience {
				email := fmt.Sprintf("u%d@example.com", i)
				user(t, s, email)
				to = append(to, email)
			}
			a, err := s.Address(ctx, to)
			if err != nil || a.AudienceID == nil || len(a.Addressees) != models.MaxAudience {
				t.Fatalf("%d entries: audience %v with %d, %v", len(to), a.AudienceID, len(a.Addressees), err)
			}
			var ids []int64
			if err := s.db.Table("audience_members").Where("audience_id = ?", *a.AudienceID).Pluck("user_id", &ids).Error; err != nil {
				t.Fatal(err)
			}
			if len(ids) != models.MaxAudience || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != models.MaxAudience {
				t.Fatalf("stored %d entries", len(ids))
			}
		})
	}
}

// The admin list names an audience's groups until the group is deleted.
func TestAdminListForgetsADeletedGroup(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			user(t, s, "ann@example.com")
			if _, err := s.CreateGroup(ctx, "ops", false); err != nil {
				t.Fatal(err)
			}
			a, err := s.Address(ctx, []string{"ann@example.com", "group:ops"})
			if err != nil {
				t.Fatal(err)
			}
			n := models.Notification{Title: "t", Level: "info"}
			a.Apply(&n)
			if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
				t.Fatal(err)
			}
			to := func() []string {
				ns, err := s.LatestNotifications(ctx, 10)
				if err != nil || len(ns) != 1 {
					t.Fatalf("latest: %v, %v", ns, err)
				}
				return audience.ShownToAdmin(ns[0]).To
			}
			if got := to(); !slices.Equal(got, []string{"ann@example.com", "group:ops"}) {
				t.Fatalf("admin list's To: %q", got)
			}
			if _, err := s.DeleteGroup(ctx, "ops"); err != nil {
				t.Fatal(err)
			}
			if got := to(); !slices.Equal(got, []string{"ann@example.com"}) {
				t.Fatalf("admin list's To after ops was deleted: %q", got)
			}
		})
	}
}
