package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/models"
)

// A burst of reads and writes on one SQLite store stays within
// maxSQLiteConns open connections, and all of it completes: none of the
// store's paths holds a connection while it waits for another or for the
// writer, so queueing for one cannot deadlock.
func TestSQLiteBurstStaysWithinTheConnectionCap(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	u := models.User{Name: "reader", Email: "reader@example.com", PasswordHash: "x"}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	const seeded = 300
	ids := make([]int64, seeded)
	for i := range seeded {
		n := models.Notification{Title: fmt.Sprintf("seed %d", i), Level: "info"}
		if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
			t.Fatal(err)
		}
		ids[i] = n.ID
	}

	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := int64(s.sqlDB.Stats().OpenConnections); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()

	// A deadlock shows as every waiter's context running out.
	burst, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := make(chan struct{})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(name string, fn func() error) {
		wg.Go(func() {
			<-start
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
			}
		})
	}
	const reads = 200
	for i := range reads {
		switch i % 4 {
		case 0, 1:
			run("recent", func() error { _, err := s.RecentNotifications(burst, 0, 500); return err })
		case 2:
			run("changes", func() error { _, err := s.ChangesAfter(burst, u.ID, 0, 500); return err })
		case 3:
			run("unread", func() error { _, err := s.UnreadCount(burst, u.ID, NoLimit); return err })
		}
	}
	for i := range 20 { // through the group commit
		run("post", func() error {
			_, err := s.CreateOrReplaceNotification(burst, &models.Notification{Title: fmt.Sprintf("burst %d", i), Level: "info"})
			return err
		})
	}
	for i := range 10 { // plain transactions, as SQLite writers
		run("mark read", func() error { return s.MarkRead(burst, u.ID, ids[i]) })
	}
	run("mark all read", func() error { return s.MarkAllRead(burst, u.ID, ids[seeded/2]) })
	for i := range 5 { // through write
		run("deliveries", func() error { return s.AddDeliveryCounts(burst, map[int64]int64{ids[i]: 1, ids[i+5]: 2}) })
	}
	for i := range 5 {
		run("chat", func() error {
			return s.CreateChatMessage(burst, &models.ChatMessage{Room: "general", UserID: u.ID, Body: fmt.Sprintf("hi %d", i)})
		})
	}
	// Most of the pool is busy as the burst begins (a slow page, say), so
	// that it surely meets the cap: on a fast machine 240 short requests
	// alone did not always.
	var held []*sql.Conn
	for range maxSQLiteConns - 4 {
		c, err := s.sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	began := time.Now()
	close(start)
	time.Sleep(50 * time.Millisecond)
	for _, c := range held {
		c.Close()
	}
	wg.Wait()
	took := time.Since(began)
	close(stopSampling)
	<-sampled

	for _, err := range errs {
		t.Error(err)
	}
	st := s.sqlDB.Stats()
	t.Logf("burst took %v; open connections peaked at %d (cap %d), %d waits for one, %v waited",
		took, peak.Load(), st.MaxOpenConnections, st.WaitCount, st.WaitDuration)
	if st.MaxOpenConnections != maxSQLiteConns {
		t.Errorf("pool capped at %d open connections, want %d", st.MaxOpenConnections, maxSQLiteConns)
	}
	if peak.Load() > maxSQLiteConns {
		t.Errorf("%d connections open at once, more than %d", peak.Load(), maxSQLiteConns)
	}
	if st.WaitCount == 0 {
		t.Error("no request waited for a connection: the burst never reached the cap")
	}
}
