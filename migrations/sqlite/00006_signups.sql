-- +goose Up
-- Sign-ups per client address, for SIGNUP_LIMIT; created_at is Unix
-- milliseconds, as login_failures.failed_at.
CREATE TABLE signups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX signups_address ON signups (address, created_at);
CREATE INDEX signups_created_at ON signups (created_at);

-- +goose Down
DROP TABLE signups;
