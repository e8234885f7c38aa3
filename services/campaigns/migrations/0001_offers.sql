-- Every offer issued, at most once per offer id (a redelivered state change cannot issue twice).
CREATE TABLE offers (
    offer_id    text PRIMARY KEY,
    member_id   text NOT NULL,
    campaign_id text NOT NULL,
    issued_at   timestamptz NOT NULL
);
CREATE INDEX offers_member ON offers (member_id);
