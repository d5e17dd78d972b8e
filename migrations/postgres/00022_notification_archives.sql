-- +goose Up
-- Notifications a user archived: out of their feed's pages (which show
-- them under ?view=archived), still in their list API with "archived".
CREATE TABLE notification_archives (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    archived_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX notification_archives_notification ON notification_archives (notification_id);

-- +goose Down
DROP TABLE notification_archives;
