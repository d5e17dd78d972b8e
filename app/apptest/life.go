package apptest

import (
	"context"
	"testing"

	"beacon/app/broker"
)

// SaveNotifications runs save, then wakes the notification hubs, through
// broker.SaveThenPublish as the controllers do: for tests that change
// notifications through the store.
func (a *App) SaveNotifications(t testing.TB, save func(ctx context.Context) error) {
	t.Helper()
	if err := broker.SaveThenPublish(context.Background(), a.broker, a.log, broker.NotificationsTopic, save); err != nil {
		t.Fatal(err)
	}
}
