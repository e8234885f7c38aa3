-- Which pseudonymous member ids ingest has seen, and from which kind of upstream id.
-- Only hashes are stored: raw phone numbers and openids never reach the database.
CREATE TABLE member_identities (
    member_id     text PRIMARY KEY,
    first_source  text NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);
