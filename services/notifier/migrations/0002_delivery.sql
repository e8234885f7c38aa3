-- The notifier proper: where members can be reached, their consent, the send ledger that is also the
-- scheduled-send table, provider rate buckets shared by every replica, and spent unsubscribe tokens.
DROP TABLE sends;

-- Raw contact points: the one place outside ingest that holds them, readable by the notifier role only.
CREATE TABLE contacts (
    member_id      text PRIMARY KEY,
    phone          text,
    email          text,
    wechat_openid  text,
    app_user_id    text,
    locale         text,
    time_zone      text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Inbound SMS replies name a phone number, not a member.
CREATE INDEX contacts_by_phone ON contacts (phone) WHERE phone IS NOT NULL;

-- Latest consent per member and channel by event time; inbound opt-outs write here before anything else.
CREATE TABLE consents (
    member_id    text NOT NULL,
    channel      text NOT NULL,
    granted      boolean NOT NULL,
    source       text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (member_id, channel)
);

-- One row per (offer, channel): a redelivered offer or a restart never sends twice.
-- Pending rows (queued, deferred, retrying, sending) carry due_at: the scheduled-send time, or for
-- 'sending' the end of the lease of the replica sending it, after which another may resume it.
CREATE TABLE sends (
    offer_id             text NOT NULL,
    channel              text NOT NULL,
    member_id            text NOT NULL,
    offer                jsonb NOT NULL,
    fallbacks            text[] NOT NULL DEFAULT '{}',
    status               text NOT NULL,
    attempts             integer NOT NULL DEFAULT 0,
    due_at               timestamptz,
    provider_message_id  text,
    error_code           text,
    error_message        text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    PRIMARY KEY (offer_id, channel),
    CHECK ((due_at IS NOT NULL) = (status IN ('queued', 'deferred', 'retrying', 'sending')))
);
CREATE INDEX sends_due ON sends (channel, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX sends_by_provider_id ON sends (channel, provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Token buckets: taking tokens is one row-locked UPDATE, so the limit holds across replicas.
CREATE TABLE rate_buckets (
    provider    text PRIMARY KEY,
    tokens      double precision NOT NULL,
    capacity    double precision NOT NULL,
    rate_per_s  double precision NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Unsubscribe links are single-use: a spent token's hash is kept.
CREATE TABLE spent_unsubscribe_tokens (
    token_id   text PRIMARY KEY,
    member_id  text NOT NULL,
    spent_at   timestamptz NOT NULL DEFAULT now()
);
