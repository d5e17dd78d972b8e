-- +goose Up
-- AUTOINCREMENT: ids are the chat hubs' cursors and must never be reused.
CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Every chat query is "this room, by id".
CREATE INDEX chat_messages_room_id ON chat_messages (room, id);

-- +goose Down
DROP TABLE chat_messages;
