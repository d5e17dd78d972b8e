-- +goose Up
-- Who is online in each chat room, on every instance. holder is one
-- instance's run of the room: it refreshes its rows while it runs and
-- deletes them when it stops; an instance killed without a goodbye leaves
-- rows that expire. expires_at is Unix milliseconds: an integer compares
-- the same way in both databases and with both SQLite drivers.
CREATE TABLE chat_presence (
    room TEXT NOT NULL,
    holder TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (room, holder, user_id)
);

-- +goose Down
DROP TABLE chat_presence;
