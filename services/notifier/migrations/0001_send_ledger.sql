-- The send ledger: one row per (offer, channel), so a redelivered offer or a restart never sends twice.
CREATE TABLE sends (
    offer_id    text NOT NULL,
    channel     text NOT NULL,
    member_id   text NOT NULL,
    status      text NOT NULL,
    error_code  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (offer_id, channel)
);
