package audience_test

import (
	"fmt"
	"testing"

	"beacon/app/audience"
	"beacon/app/models"
)

// Viewers with the same ViewKey are shown the same (ShownTo), and viewers
// shown differently have different keys: a hub renders one view per key.
func TestViewKeyTellsApartWhatViewersAreShown(t *testing.T) {
	id := func(v int64) *int64 { return &v }
	aid := id(9)
	ann := &models.User{ID: 1, Email: "ann@example.com"}
	n := models.Notification{ID: 5, Title: "t", AudienceID: aid, Addressees: []models.AudienceMember{
		{AudienceID: 9, UserID: id(1), User: ann},
		{AudienceID: 9, UserID: id(8), User: &models.User{ID: 8, Email: "hal@example.com"}},
		{AudienceID: 9, GroupID: id(10), Group: &models.Group{ID: 10, Name: "ops"}},
		{AudienceID: 9, GroupID: id(11), Group: &models.Group{ID: 11, Name: "dev"}},
	}}
	to := audience.Of(n)
	viewers := []audience.Viewer{
		audience.Member(1, nil),             // named alone
		audience.Member(8, nil),             // named alone, another
		audience.Member(1, []int64{10}),     // named, and in ops
		audience.Member(2, []int64{10}),     // in ops
		audience.Member(3, []int64{10, 12}), // in ops, and in a group not addressed: as 2
		audience.Member(4, []int64{10, 11}), // in ops and dev
		audience.Member(5, []int64{11}),     // in dev
	}
	shown := func(v audience.Viewer) string {
		s := audience.ShownTo(n, v)
		return fmt.Sprintf("%s %v %d", s.RecipientEmail(), s.Groups, len(s.Addressees))
	}
	for _, a := range viewers {
		if !to.Sees(a) {
			t.Fatalf("%+v does not see it", a)
		}
		for _, b := range viewers {
			sameKey, sameView := to.ViewKey(a) == to.ViewKey(b), shown(a) == shown(b)
			if sameKey != sameView {
				t.Errorf("%+v and %+v: same key %v, same view %v (%q, %q)", a, b, sameKey, sameView, shown(a), shown(b))
			}
		}
	}
	for _, v := range append(viewers, audience.Member(6, []int64{12}), audience.User(0), audience.User(7)) {
		if _, sees := to.View(v); sees != to.Sees(v) {
			t.Errorf("%+v: View says sees %v, Sees %v", v, sees, to.Sees(v))
		}
	}
	for _, v := range []audience.Viewer{audience.User(0), audience.Member(1, []int64{10})} {
		if _, sees := audience.Everyone.View(v); !sees {
			t.Errorf("%+v does not see a broadcast by View", v)
		}
	}
	if got := shown(viewers[5]); got != " [dev ops] 0" {
		t.Errorf("one in ops and dev is shown %q, want no recipient, [dev ops], no entries", got)
	}
	if got := shown(viewers[2]); got != "ann@example.com [ops] 0" {
		t.Errorf("ann, named and in ops, is shown %q", got)
	}
}
