-- +goose Up
-- The stream position a membership change reserved (users.membership_position):
-- the hub regroups the user's streams there, in position order with the
-- notifications it fans out, so that no stream is sent a change past it by
-- the old groups. 0: reserved before any notification, or before this column.
ALTER TABLE group_changes ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
CREATE INDEX group_changes_position ON group_changes (position) WHERE position > 0;

-- +goose Down
DROP INDEX group_changes_position;
ALTER TABLE group_changes DROP COLUMN position;
