-- +goose Up
-- A notification's audience may change (an edit's "to"). Each change keeps
-- the audience it had before, at the position of the change, so that a
-- stream resuming from a cursor before it knows what its client held:
-- those who lose it are sent `withdraw`, those who gain it `notification`.
CREATE TABLE notification_audience_changes (
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    recipient_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    audience_id INTEGER REFERENCES audiences (id),
    PRIMARY KEY (notification_id, position)
);
CREATE INDEX notification_audience_changes_position ON notification_audience_changes (position);

-- The position of its latest change of audience (0: none): a reader that
-- meets a notification changed after its cursor knows to read the above.
ALTER TABLE notifications ADD COLUMN audience_position INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE notifications DROP COLUMN audience_position;
DROP TABLE notification_audience_changes;
