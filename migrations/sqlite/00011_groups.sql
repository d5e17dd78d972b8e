-- +goose Up
-- Groups of users, a notification's audience beside "everyone" and single
-- users. An open group is a topic: signed-in users join and leave it
-- themselves.
CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    open BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
-- A user's groups, which every visibility check reads.
CREATE INDEX group_members_user_id ON group_members (user_id, group_id);

-- The users whose membership changed, in commit order, so that every
-- instance (polling it) resets their streams: SQLite has no NOTIFY, and
-- the CLI is another process. created_at is Unix milliseconds, as
-- signups.created_at; rows are pruned after a minute.
CREATE TABLE group_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX group_changes_created_at ON group_changes (created_at);

-- +goose Down
DROP TABLE group_changes;
DROP TABLE group_members;
DROP TABLE groups;
