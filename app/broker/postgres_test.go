package broker

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"beacon/app/pgtest"
)

// pgBroker runs a Postgres broker on url until the test ends.
func pgBroker(t *testing.T, url string, tune func(*Postgres)) *Postgres {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPostgres(url, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not end within 5s of its context")
		}
		db.Close()
	})
	return p
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func woken(t *testing.T, s *Subscription, timeout time.Duration, what string) {
	t.Helper()
	select {
	case <-s.C():
	case <-time.After(timeout):
		t.Fatalf("not woken within %v: %s", timeout, what)
	}
}

func drain(s *Subscription) {
	select {
	case <-s.C():
	default:
	}
}

func pgURL(t *testing.T) string {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable: the Postgres broker is not tested")
	}
	return url
}

func TestPostgresPublishOnOneInstanceWakesAnother(t *testing.T) {
	// Registered first, so it runs after the brokers' cleanups.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	url := pgURL(t)
	a, b := pgBroker(t, url, nil), pgBroker(t, url, nil)
	waitFor(t, 10*time.Second, "both listening", func() bool { return a.Health().Connected && b.Health().Connected })

	sub, other := b.Subscribe("notifications"), b.Subscribe("chat:general")
	defer sub.Close()
	defer other.Close()
	drain(sub) // the wake-up that follows LISTEN
	drain(other)
	if err := a.Publish(context.Background(), "notifications"); err != nil {
		t.Fatal(err)
	}
	woken(t, sub, 5*time.Second, "subscriber on the other instance")
	select {
	case <-other.C():
		t.Fatal("another topic's subscriber was woken")
	case <-time.After(50 * time.Millisecond):
	}

	// The publisher's own subscribers are woken at once, not only by the
	// round trip through the database.
	mine := a.Subscribe("user:7")
	defer mine.Close()
	drain(mine)
	if err := a.Publish(context.Background(), "user:7"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mine.C():
	default:
		t.Fatal("the publishing instance's own subscriber was not woken by Publish")
	}
}

func TestPostgresSchemasAreSeparateClusters(t *testing.T) {
	a, b := pgBroker(t, pgURL(t), nil), pgBroker(t, pgURL(t), nil)
	if a.channel == b.channel {
		t.Fatalf("two schemas share the channel %q", a.channel)
	}
}

func TestPostgresListenerReconnectsAndWakesEveryone(t *testing.T) {
	url := pgURL(t)
	a, b := pgBroker(t, url, nil), pgBroker(t, url, nil)
	waitFor(t, 10*time.Second, "both listening", func() bool { return a.Health().Connected && b.Health().Connected })
	subs := []*Subscription{b.Subscribe("notifications"), b.Subscribe("user:1"), b.Subscribe("chat:x")}
	for _, s := range subs {
		defer s.Close()
		drain(s)
	}

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pid := b.Health().PID
	var killed bool
	if err := db.QueryRow("SELECT pg_terminate_backend($1)", pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate listener backend %d: %v %v", pid, killed, err)
	}
	waitFor(t, 10*time.Second, "listener reconnected", func() bool {
		h := b.Health()
		return h.Connected && h.Reconnects == 1 && h.PID != pid
	})
	// Every subscriber of every topic is woken: what was published while
	// the connection was down is re-read from each one's cursor.
	for _, s := range subs {
		woken(t, s, 5*time.Second, "after the reconnect")
	}
	if err := a.Publish(context.Background(), "chat:x"); err != nil {
		t.Fatal(err)
	}
	woken(t, subs[2], 5*time.Second, "delivery after the reconnect")
}

func TestPostgresHealthHearsChecksAndGoesDeaf(t *testing.T) {
	url := pgURL(t)
	alive := pgBroker(t, url, func(p *Postgres) {
		p.checkEvery, p.deafAfter = 20*time.Millisecond, time.Second
	})
	waitFor(t, 10*time.Second, "listening", func() bool { return alive.Health().Connected })
	// With no notifications at all, the checks on the listening
	// connection keep it heard.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		// A check timing out of its wait is no failure: no reconnects.
		if h := alive.Health(); h.Deaf || h.Since > 500*time.Millisecond || h.Reconnects != 0 {
			t.Fatalf("a connected, checked listener reads %+v", h)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Nothing answers on this port: it never connects and, past the
	// bound, says so.
	deaf := pgBroker(t, "postgres://postgres@127.0.0.1:1/test?connect_timeout=1", func(p *Postgres) {
		p.deafAfter = 100 * time.Millisecond
	})
	waitFor(t, 5*time.Second, "deaf", func() bool { return deaf.Health().Deaf })
	if h := deaf.Health(); h.Connected || h.PID != 0 {
		t.Fatalf("unreachable database reads %+v", h)
	}
}

func TestPostgresRefusesOversizedTopic(t *testing.T) {
	p, err := NewPostgres("postgres://x@127.0.0.1/db", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(context.Background(), string(make([]byte, 8000))); err == nil {
		t.Fatal("a topic over the NOTIFY limit was accepted")
	}
}

// A change saved just before its request's context ended (the client hung
// up) still wakes the other instances.
func TestSaveThenPublishReachesOtherInstancesAfterTheRequestEnds(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	url := pgURL(t)
	a, b := pgBroker(t, url, nil), pgBroker(t, url, nil)
	waitFor(t, 10*time.Second, "both listening", func() bool { return a.Health().Connected && b.Health().Connected })
	sub := b.Subscribe(NotificationsTopic)
	defer sub.Close()
	drain(sub)

	ctx, hangUp := context.WithCancel(context.Background())
	err := SaveThenPublish(ctx, a, slog.New(slog.DiscardHandler), NotificationsTopic, func(context.Context) error {
		hangUp() // the commit is done; the client goes
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	woken(t, sub, 5*time.Second, "subscriber on the other instance")
}

// WakeLocal wakes this instance's subscribers and no other instance's:
// every instance polls the group_changes log and wakes its own.
func TestPostgresWakeLocalStaysOnThisInstance(t *testing.T) {
	url := pgURL(t)
	a, b := pgBroker(t, url, nil), pgBroker(t, url, nil)
	waitFor(t, 10*time.Second, "both listening", func() bool { return a.Health().Connected && b.Health().Connected })
	here, there := a.Subscribe("user:7"), b.Subscribe("user:7")
	defer here.Close()
	defer there.Close()
	drain(here) // the wake-ups that follow LISTEN
	drain(there)

	a.WakeLocal("user:7")
	select {
	case <-here.C():
	default:
		t.Fatal("this instance's subscriber was not woken at once")
	}
	select {
	case <-there.C():
		t.Fatal("WakeLocal woke another instance's subscriber")
	case <-time.After(300 * time.Millisecond):
	}
	// The same topic published does reach it: the silence above was WakeLocal's.
	if err := a.Publish(context.Background(), "user:7"); err != nil {
		t.Fatal(err)
	}
	woken(t, there, 5*time.Second, "the other instance, by Publish")
}
