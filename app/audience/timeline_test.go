package audience_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"beacon/app/audience"
	"beacon/app/models"
)

// What a client that had every change up to a cursor is told of a
// notification whose audience changed. It was posted at 10 to everyone,
// then readdressed at 20 to ann (user 1), at 30 to group 7 (bob, user 2,
// is in it), and at 40 to ann again; the withdrawn variant was then
// withdrawn at 50. A stream sends an event wherever it became visible to
// the viewer or stopped being so, but its content only to those who see
// it now (Told); a list, its state now (AsOf).
func TestAClientIsToldWhatItGainedAndLostSinceItsCursor(t *testing.T) {
	everyone := models.AudienceChange{NotificationID: 1, Position: 20}
	toAnn := models.AudienceChange{NotificationID: 1, Position: 30, RecipientID: ptr(1)}
	aud := int64(3)
	toGroup := models.AudienceChange{NotificationID: 1, Position: 40, AudienceID: &aud,
		Addressees: []models.AudienceMember{{AudienceID: aud, GroupID: ptr(7)}}}
	live := models.Notification{ID: 1, FirstPosition: 10, Position: 40, RecipientID: ptr(1), UpdatedAt: time.Now(),
		AudiencePosition: 40, AudienceChanges: []models.AudienceChange{everyone, toAnn, toGroup}}
	withdrawn := live
	withdrawn.Position, withdrawn.WithdrawnAt = 50, &withdrawn.UpdatedAt
	ann, bob, visitor := audience.Member(1, nil), audience.Member(2, []int64{7}), audience.User(0)
	for _, c := range []struct {
		n            models.Notification
		v            audience.Viewer
		after        int64
		stream, list string
	}{
		// Held throughout but for 30 to 40.
		{live, ann, 15, "withdraw at 30, notification at 40", "it"},
		{live, ann, 35, "notification at 40", "it"},
		{live, ann, 5, "notification at 10, withdraw at 30, notification at 40", "it"},
		// The visitor had it until 20.
		{live, visitor, 15, "withdraw at 20", "withdrawn"},
		{live, visitor, 25, "", ""},
		// Bob had it until 20, and from 30 to 40.
		// Not seeing it now, bob is never sent its content.
		{live, bob, 15, "withdraw at 20", "withdrawn"},
		{live, bob, 25, "", ""},
		{live, bob, 35, "withdraw at 40", "withdrawn"},
		// Never readdressed since the cursor: an update.
		{live, ann, 45, "update at 40", "it"},
		// Withdrawn at 50: taken back from those who held it then.
		{withdrawn, ann, 15, "withdraw at 30", "withdrawn"},
		{withdrawn, ann, 35, "", ""},
		{withdrawn, ann, 45, "withdraw at 50", "withdrawn"},
		{withdrawn, bob, 35, "withdraw at 40", "withdrawn"},
		{withdrawn, visitor, 25, "", ""},
	} {
		n := c.n
		if c.after >= n.AudiencePosition {
			n.AudienceChanges = nil // a reader loads the changes after its cursor
		}
		var stream []string
		for _, told := range audience.TimelineOf(n).Told(c.v, c.after) {
			switch {
			case told.Withdrawn():
				stream = append(stream, fmt.Sprintf("withdraw at %d", told.Position))
			case told.NewAfter(c.after):
				stream = append(stream, fmt.Sprintf("notification at %d", told.FirstPosition))
			default:
				stream = append(stream, fmt.Sprintf("update at %d", told.Position))
			}
		}
		list := ""
		if told, ok := audience.AsOf(n, c.v, c.after); ok {
			list = map[bool]string{true: "withdrawn", false: "it"}[told.Withdrawn()]
		}
		state := map[bool]string{true: "withdrawn", false: "live"}[c.n.Withdrawn()]
		if got := strings.Join(stream, ", "); got != c.stream {
			t.Errorf("%s, user %d in %v, stream from %d: %q, want %q", state, c.v.UserID, c.v.Groups, c.after, got, c.stream)
		}
		if list != c.list {
			t.Errorf("%s, user %d in %v, list after %d: %q, want %q", state, c.v.UserID, c.v.Groups, c.after, list, c.list)
		}
	}
}

func ptr(v int64) *int64 { return &v }
