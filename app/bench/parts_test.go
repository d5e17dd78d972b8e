package bench

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMarkerRoundTrips(t *testing.T) {
	sched, sent := time.Unix(1700000000, 123), time.Unix(1700000001, 456)
	m := marker("ab12", 42, sched, sent)
	data := []byte(`{"id":9,"title":"` + m + `","html":"<p>` + m + `</p>"}`)
	seq, s, n, ok := parseMarker(data, []byte("bench:ab12:"))
	if !ok || seq != 42 || s != sched.UnixNano() || n != sent.UnixNano() {
		t.Fatalf("got %d %d %d %v from %s", seq, s, n, ok, m)
	}
	for _, bad := range []string{`bench:ab12:`, `bench:ab12:1:2`, `bench:ab12:x:1:2`, `bench:zz99:1:2:3`, `title`} {
		if _, _, _, ok := parseMarker([]byte(bad), []byte("bench:ab12:")); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A receiver counts each item once, and a second copy as a duplicate.
func TestTrackCountsLostAndDuplicates(t *testing.T) {
	tr := newTrack("r1", 3)
	a, b := tr.newReceiver(), tr.newReceiver()
	now := time.Now()
	item := func(seq int) []byte { return []byte(marker("r1", seq, now, now)) }
	for seq := range 3 {
		tr.markPublished(seq)
		tr.deliver(a, item(seq), now)
	}
	tr.deliver(a, item(1), now)
	tr.deliver(b, item(0), now)
	tr.deliver(b, []byte(marker("other", 2, now, now)), now)
	published, expected, lost := tr.tally()
	if published != 3 || expected != 6 || lost != 2 || tr.duplicates.Load() != 1 || tr.unique.Load() != 4 {
		t.Fatalf("published %d expected %d lost %d duplicates %d unique %d",
			published, expected, lost, tr.duplicates.Load(), tr.unique.Load())
	}
}

func TestProcParsing(t *testing.T) {
	rss, err := vmRSS([]byte("Name:\tbeacon\nVmPeak:\t  999 kB\nVmRSS:\t   20480 kB\n"))
	if err != nil || rss != 20480 {
		t.Fatalf("rss %d %v", rss, err)
	}
	// The command name may hold spaces and parentheses.
	stat := []byte("4242 (be (a) con) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0")
	cpu, err := cpuSeconds(stat)
	if err != nil || cpu != 3.25 {
		t.Fatalf("cpu %v %v", cpu, err)
	}
	if _, err := cpuSeconds([]byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestTargetMustBeLoopback(t *testing.T) {
	ctx := context.Background()
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:8080", "https://127.0.0.2"} {
		if _, err := parseTarget(ctx, ok, false); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, remote := range []string{"http://192.0.2.1:8080", "http://[2001:db8::1]"} {
		if _, err := parseTarget(ctx, remote, false); !errors.Is(err, ErrRemote) {
			t.Errorf("%s: %v", remote, err)
		}
		if _, err := parseTarget(ctx, remote, true); err != nil {
			t.Errorf("%s with --allow-remote: %v", remote, err)
		}
	}
	for _, bad := range []string{"127.0.0.1:8080", "ws://127.0.0.1", "http://127.0.0.1/?x=1", "http://"} {
		if _, err := parseTarget(ctx, bad, true); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestScheduleKeepsTheRate(t *testing.T) {
	start := time.Now()
	var at [5]time.Time
	schedule(context.Background(), 5, 100, start, time.Time{}, 2, func(_, seq int, _ time.Time) { at[seq] = time.Now() })
	for seq, got := range at {
		if want := start.Add(time.Duration(seq) * 10 * time.Millisecond); got.Before(want) {
			t.Errorf("item %d went out %v early", seq, want.Sub(got))
		}
	}
}
