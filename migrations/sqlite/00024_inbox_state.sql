-- +goose Up
-- A notification the user marked unread although their "mark all"
-- watermark (users.read_through_id) covers it. Above the watermark,
-- unread is the absence of a notification_reads row.
CREATE TABLE notification_unreads (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    first_position INTEGER NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX notification_unreads_notification ON notification_unreads (notification_id);

-- Each change of a user's read or archive state, numbered per user
-- (users.state_seq, taken under the user's row lock, so numbers commit in
-- order): every open tab follows them live, and a feed page that
-- reconnects asks for those after the number it was rendered at.
ALTER TABLE users ADD COLUMN state_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE user_state_changes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL, -- read, archived, or all_read
    notification_id INTEGER NOT NULL, -- 0 for all_read
    value INTEGER NOT NULL,
    through INTEGER NOT NULL, -- all_read's position
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX user_state_changes_created ON user_state_changes (created_at);

-- +goose Down
DROP TABLE user_state_changes;
ALTER TABLE users DROP COLUMN state_seq;
DROP TABLE notification_unreads;
