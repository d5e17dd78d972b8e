-- +goose Up
-- Read state follows when a notification became visible (first_position),
-- not its id: a scheduled one posted at id 5 and delivered at position 9
-- is newer than one posted at 8. users.read_through_id keeps its name but
-- now holds a first_position: every notification that became visible at
-- or before it is read. Watermarks set so far were ids, and an id is never
-- above its first_position, so none marks more as read than it did.
--
-- notification_reads carries its notification's first_position (fixed
-- once delivered, and only delivered ones can be read), so the unread
-- count stays on index ranges without a join.
ALTER TABLE notification_reads ADD COLUMN first_position INTEGER NOT NULL DEFAULT 0;
UPDATE notification_reads SET first_position =
    (SELECT n.first_position FROM notifications n WHERE n.id = notification_reads.notification_id);
CREATE INDEX notification_reads_user_first_position ON notification_reads (user_id, first_position);

-- The unread count's ranges, by first_position, over what users may see.
DROP INDEX notifications_live_recipient;
CREATE INDEX notifications_live_recipient_first ON notifications (recipient_id, first_position)
    WHERE withdrawn_at IS NULL AND NOT scheduled;

-- +goose Down
-- Watermarks are read as ids again; one set at a position past an id
-- marks a little more as read than it did here.
DROP INDEX notifications_live_recipient_first;
CREATE INDEX notifications_live_recipient ON notifications (recipient_id, id)
    WHERE withdrawn_at IS NULL AND NOT scheduled;
DROP INDEX notification_reads_user_first_position;
ALTER TABLE notification_reads DROP COLUMN first_position;
