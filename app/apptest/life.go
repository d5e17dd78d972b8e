package apptest

import (
	"beacon/app/broker"
	"context"
	"testing"
)

// WakeNotifications tells the hubs to look again, as the controllers do
// after they commit: for tests that change notifications through the store.
func (a *App) WakeNotifications(t testing.TB) {
	t.Helper()
	if err := a.app.Publish(context.Background(), broker.NotificationsTopic); err != nil {
		t.Fatal(err)
	}
}
