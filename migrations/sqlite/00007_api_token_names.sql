-- +goose Up
-- A name says what an API token is for (`beacon token create --name`).
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- +goose Down
DROP INDEX api_tokens_user_id;
ALTER TABLE api_tokens DROP COLUMN name;
