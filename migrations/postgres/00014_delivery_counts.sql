-- +goose Up
-- Delivery counts in a table of their own: the hubs add to them once a
-- second, and adding to a column of notifications wrote every notification
-- row a second time (a new row version, and a new entry in each of its
-- indexes when the page was full). A notification never delivered live has
-- no row; its counts go with it.
CREATE TABLE delivery_counts (
    notification_id BIGINT PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    deliveries BIGINT NOT NULL
);
INSERT INTO delivery_counts (notification_id, deliveries)
    SELECT id, deliveries FROM notifications WHERE deliveries > 0;
-- notifications.deliveries stays, no longer written or read, for a
-- release: the instances of the one before, still serving during a rolling
-- deploy, name it in their inserts.

-- +goose Down
UPDATE notifications SET deliveries = d.deliveries
    FROM delivery_counts d WHERE d.notification_id = notifications.id;
DROP TABLE delivery_counts;
