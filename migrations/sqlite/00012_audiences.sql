-- +goose Up
-- A notification's audience beside "everyone" and one user: any mix of
-- users and groups, kept once per distinct set (digest: a hash of its
-- sorted entries) and never changed, so that posting to the same thousand
-- people again costs one lookup, and a key names one notification per
-- audience. Membership is not copied in: a group's notifications follow
-- its members as they come and go.
CREATE TABLE audiences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE audience_members (
    audience_id INTEGER NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX audience_members_audience_id ON audience_members (audience_id);
-- The audiences a viewer is in, by name or through a group.
CREATE INDEX audience_members_user_id ON audience_members (user_id, audience_id) WHERE user_id IS NOT NULL;
CREATE INDEX audience_members_group_id ON audience_members (group_id, audience_id) WHERE group_id IS NOT NULL;

-- NULL with recipient_id NULL: everyone.
ALTER TABLE notifications ADD COLUMN audience_id INTEGER REFERENCES audiences (id);

-- Each branch of the visibility rule is a range on this index: everyone
-- (NULL, NULL), one user (id, NULL), one audience (NULL, id).
DROP INDEX notifications_live_recipient_first;
CREATE INDEX notifications_live_audience_first ON notifications (recipient_id, audience_id, first_position)
    WHERE withdrawn_at IS NULL AND NOT scheduled;

-- A key names one live notification per audience.
DROP INDEX notifications_live_key;
CREATE UNIQUE INDEX notifications_live_key ON notifications (COALESCE(recipient_id, 0), COALESCE(audience_id, 0), "key")
    WHERE "key" IS NOT NULL AND withdrawn_at IS NULL;

-- +goose Down
DROP INDEX notifications_live_key;
CREATE UNIQUE INDEX notifications_live_key ON notifications (COALESCE(recipient_id, 0), "key")
    WHERE "key" IS NOT NULL AND withdrawn_at IS NULL;
DROP INDEX notifications_live_audience_first;
CREATE INDEX notifications_live_recipient_first ON notifications (recipient_id, first_position)
    WHERE withdrawn_at IS NULL AND NOT scheduled;
ALTER TABLE notifications DROP COLUMN audience_id;
DROP TABLE audience_members;
DROP TABLE audiences;
