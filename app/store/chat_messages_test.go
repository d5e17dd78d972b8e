package store_test

import (
	"context"
	"fmt"
	"testing"

	"beacon/app/models"
	"beacon/app/store"
)

func TestChatMessagesByRoomAndID(t *testing.T) {
	ctx := context.Background()
	for name, st := range store.OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			u := models.User{Name: "Ann", Email: "ann@example.com", PasswordHash: "x"}
			if err := st.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			var general []int64
			for i := range 5 {
				for _, room := range []string{"general", "other"} {
					m := models.ChatMessage{Room: room, UserID: u.ID, Body: fmt.Sprintf("%s %d", room, i)}
					if err := st.CreateChatMessage(ctx, &m); err != nil {
						t.Fatal(err)
					}
					if m.ID == 0 {
						t.Fatal("no id after create")
					}
					if room == "general" {
						general = append(general, m.ID)
					}
				}
			}

			recent, err := st.RecentChatMessages(ctx, "general", 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(recent) != 3 || recent[0].ID != general[2] || recent[2].ID != general[4] || recent[2].User.Name != "Ann" {
				t.Fatalf("recent: %+v, want the last 3 of %v oldest first, with authors", recent, general)
			}

			after, err := st.ChatMessagesAfter(ctx, "general", general[1], 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != 2 || after[0].ID != general[2] || after[1].ID != general[3] || after[0].Body != "general 2" {
				t.Fatalf("after: %+v", after)
			}
			none, err := st.ChatMessagesAfter(ctx, "nobody-here", 0, 10)
			if err != nil || len(none) != 0 {
				t.Fatalf("empty room: %v %v", none, err)
			}
		})
	}
}
