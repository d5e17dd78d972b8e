-- +goose Up
-- The VAPID key pair when WEBPUSH_PUBLIC_KEY and WEBPUSH_PRIVATE_KEY are
-- unset: made once, by whichever instance starts first, and then every
-- instance and every deploy uses it (a browser's subscription is bound to
-- the public key). One row.
CREATE TABLE webpush_keys (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE webpush_keys;
