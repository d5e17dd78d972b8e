-- +goose Up
-- What may interrupt a person (desktop and push notifications): the
-- levels, and quiet hours in their time zone. No row: every level, any
-- hour.
CREATE TABLE user_preferences (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    levels TEXT NOT NULL,
    quiet_start TEXT NOT NULL DEFAULT '',
    quiet_end TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    quiet_allow_errors BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE user_preferences;
