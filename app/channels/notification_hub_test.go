package channels_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"beacon/app/broker"
	"beacon/app/channels"
	"beacon/app/store"
)

// A shutdown that comes while the hub is still starting is a shutdown, not
// a failure: `beacon serve` must exit 0 on an early SIGTERM.
func TestHubStoppedWhileStartingReturnsNil(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := st.Migrate(context.Background(), log); err != nil {
		t.Fatal(err)
	}
	hub := channels.NewNotificationHub(st, nil, broker.NewMemory(), log, channels.HubOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // before the hub has read where to start
	if err := hub.Run(ctx); err != nil {
		t.Fatalf("Run after a shutdown during start: %v, want nil", err)
	}
}
