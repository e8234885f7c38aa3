-- When scoring recorded each change, on the wall clock. Event time (`at`) says when a change
-- happened to the member; this says when scoring made it, so a change made before an event it
-- should have waited for (a review past an event still on its way) can be told apart from one
-- made after, against when the event was published.
ALTER TABLE transitions ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT clock_timestamp();
