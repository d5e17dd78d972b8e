package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Counts are summed over the other instances whose rows have not expired;
// an instance's changes replace its own counts only, and forgetting an
// instance removes its counts.
func TestConnectionCountsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			later := time.Now().Add(time.Minute)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(s.PublishConnectionCounts(ctx, "a", map[string]int{"addr:1": 2, "user:7": 1}, later))
			must(s.PublishConnectionCounts(ctx, "b", map[string]int{"addr:1": 3}, later))
			must(s.PublishConnectionCounts(ctx, "dead", map[string]int{"addr:1": 50}, time.Now().Add(-time.Second)))
			got, err := s.OtherConnectionCounts(ctx, "c")
			must(err)
			if fmt.Sprint(got) != "map[addr:1:5 user:7:1]" {
				t.Fatalf("others seen from c: %v (the expired instance must not count)", got)
			}
			// a changes one subject and drops another; b's stay.
			must(s.PublishConnectionCounts(ctx, "a", map[string]int{"addr:1": 1, "user:7": 0}, later))
			if got, _ := s.OtherConnectionCounts(ctx, "c"); fmt.Sprint(got) != "map[addr:1:4]" {
				t.Fatalf("after a's change: %v", got)
			}
			if got, _ := s.OtherConnectionCounts(ctx, "a"); fmt.Sprint(got) != "map[addr:1:3]" {
				t.Fatalf("seen from a: %v, want b's alone", got)
			}
			must(s.ForgetConnectionCounts(ctx, "b"))
			if got, _ := s.OtherConnectionCounts(ctx, "c"); fmt.Sprint(got) != "map[addr:1:1]" {
				t.Fatalf("after b left: %v", got)
			}
		})
	}
}
