package store

import (
	"context"
	"sync"
	"testing"

	"beacon/app/push"
)

// Instances starting at once on one database each make a pair; all end up
// with the one stored, and later starts read it.
func TestWebPushKeysAreMadeOnceForEveryInstance(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			const instances = 8
			got := make([]push.Keys, instances)
			var wg sync.WaitGroup
			for i := range instances {
				wg.Go(func() {
					k, err := s.WebPushKeys(ctx, push.NewKeys)
					if err != nil {
						t.Error(err)
					}
					got[i] = k
				})
			}
			wg.Wait()
			for i, k := range got {
				if k != got[0] || k.Check() != nil {
					t.Fatalf("instance %d got %+v, instance 0 %+v", i, k, got[0])
				}
			}
			later, err := s.WebPushKeys(ctx, func() (push.Keys, error) { t.Fatal("made a pair again"); return push.Keys{}, nil })
			if err != nil || later != got[0] {
				t.Fatalf("a later start: %+v %v, want %+v", later, err, got[0])
			}
		})
	}
}
