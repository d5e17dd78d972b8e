-- +goose Up
-- A notification's life: positions, keys, schedules, withdrawals.
-- position: where its latest change stands in the stream (ids and positions
-- share the id's sequence, so it starts as its id);
-- first_position: where it became visible (0 while scheduled).
ALTER TABLE notifications ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN first_position BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN "key" TEXT;
ALTER TABLE notifications ADD COLUMN deliver_at TIMESTAMPTZ;
ALTER TABLE notifications ADD COLUMN scheduled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN withdrawn_at TIMESTAMPTZ;
ALTER TABLE notifications ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
UPDATE notifications SET position = id, first_position = id, updated_at = created_at;

-- Streams replay by position.
CREATE INDEX notifications_position ON notifications (position);
-- One live notification per key and recipient; NULL (everyone) counts as
-- one recipient, which a plain unique index would not do.
CREATE UNIQUE INDEX notifications_live_key ON notifications (COALESCE(recipient_id, 0), "key")
    WHERE "key" IS NOT NULL AND withdrawn_at IS NULL;
-- What is still waiting to be delivered, by due time.
CREATE INDEX notifications_due ON notifications (deliver_at) WHERE scheduled;
-- The unread count's ranges, over what users may see only.
CREATE INDEX notifications_live_recipient ON notifications (recipient_id, id)
    WHERE withdrawn_at IS NULL AND NOT scheduled;

-- pruned_through: the greatest position retention has deleted; a stream
-- cursor below it cannot be resumed.
CREATE TABLE stream_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through BIGINT NOT NULL
);
INSERT INTO stream_state (id, pruned_through) VALUES (1, 0);

-- +goose Down
DROP TABLE stream_state;
DROP INDEX notifications_live_recipient;
DROP INDEX notifications_due;
DROP INDEX notifications_live_key;
DROP INDEX notifications_position;
ALTER TABLE notifications DROP COLUMN updated_at;
ALTER TABLE notifications DROP COLUMN withdrawn_at;
ALTER TABLE notifications DROP COLUMN scheduled;
ALTER TABLE notifications DROP COLUMN deliver_at;
ALTER TABLE notifications DROP COLUMN "key";
ALTER TABLE notifications DROP COLUMN first_position;
ALTER TABLE notifications DROP COLUMN position;
