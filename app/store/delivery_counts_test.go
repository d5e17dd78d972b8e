package store

import (
	"context"
	"testing"
)

// Counts for several notifications go in at once, add to what was there,
// leave updated_at alone, and skip one that is gone (pruned meanwhile).
func TestAddDeliveryCounts(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := post(t, s, nil), post(t, s, nil)
			before := must(s.NotificationByID(ctx, a))
			if err := s.AddDeliveryCounts(ctx, map[int64]int64{a: 5, b: 1, b + 1000: 7}); err != nil {
				t.Fatal(err)
			}
			// More than one statement's worth: a lands in a later one.
			many := map[int64]int64{a: 2}
			for id := range int64(2 * deliveryChunk) {
				many[-1-id] = 1
			}
			if err := s.AddDeliveryCounts(ctx, many); err != nil {
				t.Fatal(err)
			}
			if err := s.AddDeliveryCounts(ctx, nil); err != nil {
				t.Fatal(err)
			}
			na, nb := must(s.NotificationByID(ctx, a)), must(s.NotificationByID(ctx, b))
			if na.Deliveries != 7 || nb.Deliveries != 1 || !na.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("deliveries %d and %d, updated_at %v; want 7 and 1, %v", na.Deliveries, nb.Deliveries,
					na.UpdatedAt, before.UpdatedAt)
			}
		})
	}
}
