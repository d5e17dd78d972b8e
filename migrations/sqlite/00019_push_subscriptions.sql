-- +goose Up
-- A browser's Web Push subscription (PushSubscription.toJSON()), for the
-- user signed in there. An endpoint is one browser profile's: saved again,
-- by another user of the same browser, it moves to them.
CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    last_push_at TIMESTAMP
);
CREATE INDEX push_subscriptions_user_id ON push_subscriptions (user_id, created_at);

-- +goose Down
DROP TABLE push_subscriptions;
