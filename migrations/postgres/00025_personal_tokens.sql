-- +goose Up
-- A token's scope: "admin" tokens post as the admin who owns them; "read"
-- tokens (a person's own, from /settings) read that person's
-- notifications and can do nothing else.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN scope;
