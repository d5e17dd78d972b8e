-- +goose Up
-- The feed's pages walk each branch of the visibility rule newest first
-- and stop at a page (store.FeedPage). For broadcasts PostgreSQL cannot
-- walk notifications_live_audience_first in first_position order (IS NULL
-- terms do not fix a column's value for its planner), and read all of
-- them and sorted: 58 ms of 100,000. This index it walks.
CREATE INDEX notifications_live_broadcast_first ON notifications (first_position)
    WHERE recipient_id IS NULL AND audience_id IS NULL AND withdrawn_at IS NULL AND NOT scheduled;

-- The feed's search (?q=) is a case-insensitive substring of title or body
-- (ILIKE on the two joined by U+001F, which no search text holds): a
-- trigram index serves it. pg_trgm ships with PostgreSQL and is a trusted
-- extension, but a database user may still not be allowed to add it, or
-- it may live in another schema: then searching reads every row the user
-- may see, and the release goes on.
-- +goose StatementBegin
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN unique_violation THEN
        NULL; -- another schema's migration added it at the same moment
    END;
    CREATE INDEX notifications_text_trgm ON notifications USING gin ((title || chr(31) || body) public.gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR undefined_object OR feature_not_supported THEN
    RAISE NOTICE 'no trigram index for the feed''s search: %', SQLERRM;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS notifications_text_trgm;
DROP INDEX notifications_live_broadcast_first;
