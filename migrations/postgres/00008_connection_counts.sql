-- +goose Up
-- Open streams, long polls and chat sockets per subject ("user:ID" or
-- "addr:ADDRESS") on each instance, so that the per-user and per-address
-- limits count across instances sharing a PostgreSQL database. An
-- instance's counts hold while its row's expires_at (Unix milliseconds)
-- is in the future: one that dies without a goodbye stops counting then.
CREATE TABLE connection_instances (
    instance TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE TABLE connection_counts (
    instance TEXT NOT NULL REFERENCES connection_instances (instance) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (instance, subject)
);

-- +goose Down
DROP TABLE connection_counts;
DROP TABLE connection_instances;
