package controllers_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	"beacon/app/apptest"
)

// Posts racing a browser that keeps dropping and reconnecting with
// Last-Event-ID are neither lost nor duplicated.
func TestReconnectsRacingPostsLoseAndRepeatNothing(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		c := app.Client(t)
		const posts = 150

		posted := make(chan int64, posts)
		go func() {
			defer close(posted)
			for i := range posts {
				resp, body := postJSON(t, app, token, map[string]string{"title": fmt.Sprint("race ", i)})
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("post %d: %d %s", i, resp.StatusCode, body)
					return
				}
				posted <- 0
			}
		}()

		var got []int64
		last := "0"
		for reconnects := 0; len(got) < posts; reconnects++ {
			if reconnects > 10*posts {
				t.Fatalf("gave up after %d reconnects with %d of %d", reconnects, len(got), posts)
			}
			s := open(t, c, last)
			for range 1 + rand.IntN(8) {
				p := decode(t, s.NextEvent(t, wait))
				got = append(got, p.ID)
				last = strconv.FormatInt(p.ID, 10)
				if len(got) == posts {
					break
				}
			}
			s.Close()
		}
		for range posted {
		}
		if !slices.IsSorted(got) {
			t.Fatalf("out of order: %v", got)
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("duplicates: %v", got)
		}
		_, l := getList(t, c, "/api/notifications?limit=500")
		if fmt.Sprint(ids(l)) != fmt.Sprint(got) {
			t.Fatalf("received %v\nstored   %v", got, ids(l))
		}
	})
}

// 200 concurrent posts are all stored and all delivered, in id order, to
// a browser that was following the stream throughout. On a loaded machine
// the hub may drop a stream that falls 128 frames behind; the browser then
// reconnects with Last-Event-ID, as EventSource does, and must lose nothing.
func TestConcurrentPostsAllStoredAndDelivered(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		s := open(t, app.Client(t), "")
		const posts = 200

		var wg sync.WaitGroup
		created := make(chan int64, posts)
		for i := range posts {
			wg.Go(func() {
				resp, body := postJSON(t, app, token, map[string]string{"title": fmt.Sprint("burst ", i)})
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("post %d: %d %s", i, resp.StatusCode, body)
					return
				}
				var p payload
				if err := jsonUnmarshal(body, &p); err != nil {
					t.Error(err)
				}
				created <- p.ID
			})
		}
		wg.Wait()
		close(created)
		var want []int64
		for id := range created {
			want = append(want, id)
		}
		if len(want) != posts {
			t.Fatalf("%d of %d posts succeeded", len(want), posts)
		}
		slices.Sort(want)

		var got []int64
		for len(got) < posts {
			ev, ok := s.Next(t, wait)
			switch {
			case !ok:
				last := "0" // the database was empty when the stream opened
				if len(got) > 0 {
					last = fmt.Sprint(got[len(got)-1])
				}
				s = open(t, app.Client(t), last)
			case ev.Comment == "":
				got = append(got, decode(t, ev).ID)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("delivered %v\nwant      %v", got, want)
		}
		if n := countNotifications(t, app); n != posts {
			t.Fatalf("%d stored", n)
		}
	})
}
