-- The campaigns schema: definitions, the copies of member facts campaigns decides on, every
-- decision (issued, held out, suppressed or queued), budgets, and the co-purchase counts that
-- cross-sell learns from. The foundation's one-table ledger gives way to decisions.
DROP TABLE offers;

-- The current definition of each campaign; every version ever stored is in campaign_versions.
CREATE TABLE campaigns (
    campaign_id text PRIMARY KEY,
    version     integer NOT NULL,
    definition  jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE campaign_versions (
    campaign_id text NOT NULL,
    version     integer NOT NULL,
    definition  jsonb NOT NULL,
    origin      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, version)
);

-- The latest state scoring published per member, plus what campaigns learns from purchases.
CREATE TABLE members (
    member_id              text PRIMARY KEY,
    state_version          integer,
    state_at               timestamptz,
    lifecycle              text,
    engagement_tier        text,
    value_tier             text,
    p_alive                double precision,
    expected_purchases_90d double precision,
    clv_minor              bigint,
    value_at_risk_minor    bigint,
    home_store_id          text,
    region                 text,
    communities            text[] NOT NULL DEFAULT '{}',
    purchases              integer NOT NULL DEFAULT 0,
    first_purchase_at      timestamptz,
    last_purchase_at       timestamptz,
    -- When the member's own rhythm says the next purchase is due (replenishment trigger).
    replenish_due_at       timestamptz
);
CREATE INDEX members_communities ON members USING gin (communities);
CREATE INDEX members_replenish_due ON members (replenish_due_at) WHERE replenish_due_at IS NOT NULL;

-- Latest consent per member and channel, by event time.
CREATE TABLE consents (
    member_id text NOT NULL,
    channel   text NOT NULL,
    granted   boolean NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (member_id, channel)
);

-- Reference data loaded from the chain's CSV files: store zones for quiet hours, price tiers for up-sell.
CREATE TABLE stores (
    store_id text PRIMARY KEY,
    timezone text NOT NULL,
    region   text
);
CREATE TABLE products (
    sku        text PRIMARY KEY,
    name       text,
    category   text,
    price_tier integer
);
CREATE INDEX products_category_tier ON products (category, price_tier);

-- One row per (member, campaign, trigger occurrence): the idempotency key.
CREATE TABLE decisions (
    decision_key          text PRIMARY KEY,
    offer_id              text NOT NULL UNIQUE,
    member_id             text NOT NULL,
    campaign_id           text NOT NULL,
    campaign_version      integer NOT NULL,
    kind                  text NOT NULL,
    occurrence            text NOT NULL,
    decided_at            timestamptz NOT NULL,
    outcome               text NOT NULL CHECK (outcome IN ('issued', 'holdout', 'suppressed', 'queued')),
    reason                text,
    message_type          text NOT NULL,
    channels              text[] NOT NULL DEFAULT '{}',
    -- When the message reaches (or, for the holdout, would have reached) the member.
    deliver_at            timestamptz,
    expires_at            timestamptz,
    not_before            timestamptz,
    sku                   text,
    category              text,
    coupon_value_minor    bigint NOT NULL DEFAULT 0,
    expected_value_minor  bigint NOT NULL DEFAULT 0,
    attribution_until     timestamptz,
    last_status           text,
    delivered_at          timestamptz,
    converted_at          timestamptz,
    conversion_purchase_id text,
    revenue_minor         bigint
);
CREATE INDEX decisions_member_deliveries ON decisions (member_id, deliver_at) WHERE outcome IN ('issued', 'holdout');
CREATE INDEX decisions_campaign ON decisions (campaign_id, outcome);
CREATE INDEX decisions_queued ON decisions (not_before) WHERE outcome = 'queued';

-- Budgets are counted here under row locks, so replicas racing for the last offer cannot both win.
CREATE TABLE budget_days (
    campaign_id  text NOT NULL,
    day          date NOT NULL,
    issued       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, day)
);
CREATE TABLE budget_totals (
    campaign_id  text PRIMARY KEY,
    issued       integer NOT NULL DEFAULT 0,
    coupon_minor bigint NOT NULL DEFAULT 0
);

-- Co-purchase counts per event-time day; affinity sums the rolling window.
CREATE TABLE basket_days (
    day     date PRIMARY KEY,
    baskets integer NOT NULL
);
CREATE TABLE category_days (
    day      date NOT NULL,
    category text NOT NULL,
    baskets  integer NOT NULL,
    PRIMARY KEY (day, category)
);
CREATE TABLE pair_days (
    day     date NOT NULL,
    a       text NOT NULL,
    b       text NOT NULL,
    baskets integer NOT NULL,
    PRIMARY KEY (day, a, b)
);
CREATE TABLE sku_days (
    day      date NOT NULL,
    sku      text NOT NULL,
    category text NOT NULL,
    units    integer NOT NULL,
    PRIMARY KEY (day, sku)
);

-- Community interest: who asked about a category lately, and when a campaign last fired for it.
CREATE TABLE community_mentions (
    community_id text NOT NULL,
    category     text NOT NULL,
    member_id    text NOT NULL,
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (community_id, category, member_id)
);
CREATE TABLE community_fires (
    campaign_id  text NOT NULL,
    community_id text NOT NULL,
    category     text NOT NULL,
    fired_at     timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, community_id, category, fired_at)
);

-- The event-time watermark: the latest event time read per input partition. Each replica
-- writes only its own partitions' rows, so the clock never becomes a hot row they queue on.
CREATE TABLE partition_clock (
    topic          text NOT NULL,
    partition      integer NOT NULL,
    max_event_time timestamptz NOT NULL,
    PRIMARY KEY (topic, partition)
);
