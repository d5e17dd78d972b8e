package apptest

import (
	"context"
	"testing"

	"beacon/app/broker"
)

// SaveNotifications runs save, then wakes the notification hubs and the
// scheduler, through broker.SaveNotifications as the controllers do: for
// tests that change notifications through the store.
func (a *App) SaveNotifications(t testing.TB, save func(ctx context.Context) error) {
	t.Helper()
	if err := broker.SaveNotifications(context.Background(), a.broker, a.log, true, save); err != nil {
		t.Fatal(err)
	}
}
