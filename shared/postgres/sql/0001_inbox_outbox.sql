-- Plumbing every service schema gets: the inbox (idempotent consumption) and the outbox
-- (publishing in the same transaction as the state change). Applied into each service's
-- own schema by the migration runner with ledger "plumbing_migrations".

CREATE TABLE inbox (
    event_id    text PRIMARY KEY,
    topic       text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_received_at ON inbox (received_at);

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    key          bytea,
    value        bytea NOT NULL,
    -- CloudEvents attributes and other headers; values are text in every record we produce.
    headers      jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
-- The relay reads only unpublished rows, in id order.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
