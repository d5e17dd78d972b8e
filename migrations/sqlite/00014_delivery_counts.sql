-- +goose Up
-- Delivery counts in a table of their own: the hubs add to them once a
-- second, and adding to a column of notifications wrote every notification
-- row a second time. A notification never delivered live has no row; its
-- counts go with it.
CREATE TABLE delivery_counts (
    notification_id INTEGER PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    deliveries INTEGER NOT NULL
);
INSERT INTO delivery_counts (notification_id, deliveries)
    SELECT id, deliveries FROM notifications WHERE deliveries > 0;
-- notifications.deliveries stays, no longer written or read, as on
-- PostgreSQL (where a rolling deploy's older instances still name it).

-- +goose Down
UPDATE notifications SET deliveries = (
    SELECT d.deliveries FROM delivery_counts d WHERE d.notification_id = notifications.id)
    WHERE id IN (SELECT notification_id FROM delivery_counts);
DROP TABLE delivery_counts;
