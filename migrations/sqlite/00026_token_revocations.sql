-- +goose Up
-- A number that every change which may refuse a bearer token moves on: a
-- token deleted (revoked, or with its user), a user's admin rights changed.
-- Triggers move it, so no path (the server, `beacon token revoke` in
-- another process) can forget to. An instance that keeps checked tokens in
-- memory reads this one row per request instead of the token and its user,
-- and forgets them all when it moved.
CREATE TABLE token_revocations (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO token_revocations (id, generation) VALUES (1, 0);

-- +goose StatementBegin
CREATE TRIGGER token_revoked AFTER DELETE ON api_tokens
BEGIN
    UPDATE token_revocations SET generation = generation + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER token_changed AFTER UPDATE OF token_hash, user_id, scope ON api_tokens
WHEN OLD.token_hash IS NOT NEW.token_hash OR OLD.user_id IS NOT NEW.user_id OR OLD.scope IS NOT NEW.scope
BEGIN
    UPDATE token_revocations SET generation = generation + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER token_owner_changed AFTER UPDATE OF admin ON users
WHEN OLD.admin IS NOT NEW.admin
BEGIN
    UPDATE token_revocations SET generation = generation + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER token_owner_deleted AFTER DELETE ON users
BEGIN
    UPDATE token_revocations SET generation = generation + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER token_owner_deleted;
DROP TRIGGER token_owner_changed;
DROP TRIGGER token_changed;
DROP TRIGGER token_revoked;
DROP TABLE token_revocations;
