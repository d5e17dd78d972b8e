-- +goose Up
-- A number that every change which may refuse a bearer token moves on: a
-- token deleted (revoked, or with its user), a user's admin rights changed.
-- Triggers move it, so no path can forget to. SQLite's instances read it to
-- keep checked tokens in memory (a revocation there may come from another
-- process); PostgreSQL's hear revocations by NOTIFY, and have it for the
-- same schema on both.
CREATE TABLE token_revocations (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO token_revocations (id, generation) VALUES (1, 0);

-- +goose StatementBegin
CREATE FUNCTION token_revocations_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE token_revocations SET generation = generation + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER token_revoked AFTER DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION token_revocations_move();
CREATE TRIGGER token_changed AFTER UPDATE OF token_hash, user_id, scope ON api_tokens
    FOR EACH ROW WHEN ((OLD.token_hash, OLD.user_id, OLD.scope) IS DISTINCT FROM (NEW.token_hash, NEW.user_id, NEW.scope))
    EXECUTE FUNCTION token_revocations_move();
CREATE TRIGGER token_owner_changed AFTER UPDATE OF admin ON users
    FOR EACH ROW WHEN (OLD.admin IS DISTINCT FROM NEW.admin) EXECUTE FUNCTION token_revocations_move();
CREATE TRIGGER token_owner_deleted AFTER DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION token_revocations_move();

-- +goose Down
DROP TRIGGER token_owner_deleted ON users;
DROP TRIGGER token_owner_changed ON users;
DROP TRIGGER token_changed ON api_tokens;
DROP TRIGGER token_revoked ON api_tokens;
DROP FUNCTION token_revocations_move();
DROP TABLE token_revocations;
