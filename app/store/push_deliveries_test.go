package store

import (
	"context"
	"testing"
	"time"

	"beacon/app/models"
)

// A claim leaves the pushes to a busy push service for later, takes each
// other one once, and hands a released one out again.
func TestClaimingSkipsBusyPushServicesAndTakesEachPushOnce(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			u := user(t, s, "a@example.com")
			for _, endpoint := range []string{"https://a.example/push/1", "https://b.example/push/2", "https://a.example.evil/push/3"} {
				sub := models.PushSubscription{UserID: u.ID, Endpoint: endpoint, P256dh: "k", Auth: "a"}
				if _, err := s.SavePushSubscription(ctx, &sub); err != nil {
					t.Fatal(err)
				}
			}
			post(t, s, nil)
			if n, _, err := s.PlanPushes(ctx, 0, 10); err != nil || n != 1 {
				t.Fatalf("plan: %d, %v", n, err)
			}
			now := time.Now().Add(time.Second)
			jobs := must(s.ClaimPushes(ctx, now, time.Minute, 10, []string{"https://a.example"}))
			if len(jobs) != 2 || jobs[0].Endpoint == "https://a.example/push/1" || jobs[1].Endpoint == "https://a.example/push/1" {
				t.Fatalf("with a.example busy: %+v", jobs)
			}
			if again := must(s.ClaimPushes(ctx, now, time.Minute, 10, nil)); len(again) != 1 || again[0].Endpoint != "https://a.example/push/1" {
				t.Fatalf("then: %+v, want a.example's alone", again)
			}
			must(s.FinishPushes(ctx, []models.PushOutcome{{Job: jobs[0], Result: models.PushReleased}}))
			if again := must(s.ClaimPushes(ctx, now, time.Minute, 10, nil)); len(again) != 1 || again[0].Endpoint != jobs[0].Endpoint {
				t.Fatalf("after a release: %+v, want %s again", again, jobs[0].Endpoint)
			}
		})
	}
}
