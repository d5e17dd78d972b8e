-- +goose Up
-- A stream position taken (and never used by a change) when the user's
-- groups last changed: a stream resuming from a cursor before it holds what
-- the old membership chose, and is told `reset` so that it reloads by the
-- new one; a cursor the server gives after the change is at least this.
ALTER TABLE users ADD COLUMN membership_position BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN membership_position;
