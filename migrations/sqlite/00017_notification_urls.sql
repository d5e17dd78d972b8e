-- +goose Up
-- Where a click on a notification leads (models.CheckURL); NULL for none.
ALTER TABLE notifications ADD COLUMN url TEXT;

-- +goose Down
ALTER TABLE notifications DROP COLUMN url;
