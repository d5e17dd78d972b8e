-- +goose Up
-- Web Push follows the change feed from a cursor of its own: every change
-- up to position has been planned into push_deliveries, once, by whichever
-- instance got there first. It starts at the newest position, so that an
-- upgrade pushes nothing from before it.
CREATE TABLE push_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO push_cursor (id, position) SELECT 1, COALESCE(MAX(position), 0) FROM notifications;

-- What one device (subscription) has been pushed of one notification, and
-- what it is still owed: due_at set means a push is pending (what kind is
-- decided when it is sent, from the notification and the user as they are
-- then); claimed_until and claim mark the instance sending it; seq counts
-- the changes planned, so that a send that finishes after a newer change
-- leaves that change pending.
CREATE TABLE push_deliveries (
    subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    shown BOOLEAN NOT NULL DEFAULT FALSE,
    due_at TIMESTAMP,
    claimed_until TIMESTAMP,
    claim BIGINT,
    seq INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    failing_since TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, notification_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX push_deliveries_notification ON push_deliveries (notification_id);
CREATE INDEX push_deliveries_claim ON push_deliveries (claim) WHERE claim IS NOT NULL;

-- Since when every push to this device has failed (NULL: the last one
-- went through); one failing for days is deleted.
ALTER TABLE push_subscriptions ADD COLUMN failing_since TIMESTAMP;

-- +goose Down
ALTER TABLE push_subscriptions DROP COLUMN failing_since;
DROP TABLE push_deliveries;
DROP TABLE push_cursor;
