-- +goose Up
-- AUTOINCREMENT: ids are stream positions and must never be reused.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL,
    recipient_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    deliveries INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_recipient_id ON notifications (recipient_id, id);

-- +goose Down
DROP TABLE notifications;
