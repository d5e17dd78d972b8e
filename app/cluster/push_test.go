package cluster

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"beacon/app/push/pushtest"
)

// Two instances on one PostgreSQL push each notification to each device
// once: broadcasts posted on both, devices subscribed through both, every
// device gets every notification exactly once. (In any order: pushes go
// out side by side, and push services promise no order either.)
func TestClusterPushesEachNotificationToEachDeviceOnce(t *testing.T) {
	c := startClusterWith(t, 2, "", "WEBPUSH_ALLOWED_HOSTS=127.0.0.1", "WEBPUSH_DELAY=200ms", "WEBPUSH_SUBJECT=mailto:ops@example.com")
	a, b := c.nodes[0], c.nodes[1]
	if ka, kb := a.app.PushKey(t), b.app.PushKey(t); ka != kb {
		t.Fatalf("the instances push with different keys: %s and %s", ka, kb)
	}
	svc := pushtest.New(t, a.app.PushKey(t))
	var devices []*pushtest.Device
	for i := range 10 {
		nd := c.nodes[i%2]
		email := fmt.Sprintf("user%d@example.com", i)
		nd.app.CreateUser(t, fmt.Sprint("User ", i), email, "a long password", false)
		cl := nd.app.Client(t)
		cl.Login(t, email, "a long password")
		for j := range 2 {
			d := svc.NewDevice(t, fmt.Sprintf("u%d-d%d", i, j))
			cl.SubscribePush(t, d.Subscription())
			devices = append(devices, d)
		}
	}

	const posts = 30
	ids := make([]int64, posts)
	var wg sync.WaitGroup
	for i := range posts {
		wg.Go(func() {
			id, err := c.post(c.nodes[i%2], fmt.Sprint("Broadcast ", i))
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	slices.Sort(ids)
	all := func() bool {
		for _, d := range devices {
			if len(d.Received()) < posts {
				return false
			}
		}
		return true
	}
	if !svc.Wait(20*time.Second, all) {
		for _, d := range devices {
			t.Logf("%s: %d pushes", d.Name, len(d.Received()))
		}
		t.Fatal("not every device got every push within 20s")
	}
	time.Sleep(time.Second) // a second instance's duplicate would come now
	for _, d := range devices {
		var got []int64
		for _, p := range d.Received() {
			got = append(got, int64(p.Payload["id"].(float64)))
		}
		slices.Sort(got)
		if !slices.Equal(got, ids) {
			t.Errorf("%s got %v, want %v once each", d.Name, got, ids)
		}
	}
	for _, err := range svc.Errors() {
		t.Error(err)
	}
}
