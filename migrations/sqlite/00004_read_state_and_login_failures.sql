-- +goose Up
-- Read state: every notification with id <= read_through_id is read by that
-- user ("mark all" moves it, one write); notification_reads holds the
-- single reads above it. Broadcasts get no row per user when posted.
ALTER TABLE users ADD COLUMN read_through_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_read_through_id ON users (read_through_id);

CREATE TABLE notification_reads (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX notification_reads_notification_id ON notification_reads (notification_id);

-- Failed sign-ins, for throttling; subject is "email:…" or "ip:…",
-- failed_at is Unix milliseconds (compares the same way on both databases).
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE notification_reads;
DROP INDEX users_read_through_id;
ALTER TABLE users DROP COLUMN read_through_id;
