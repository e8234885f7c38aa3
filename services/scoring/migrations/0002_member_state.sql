-- Scoring's member state: engagement, purchases, lifecycle and scores, reviewed on event time.
-- Replaces the foundation's member_activity.
DROP TABLE member_activity;

CREATE TABLE members (
    member_id             text PRIMARY KEY,
    merged_into           text,
    first_seen_at         timestamptz NOT NULL,
    clock                 timestamptz NOT NULL,
    lifecycle             text NOT NULL,
    lifecycle_since       timestamptz,
    reasons               text[] NOT NULL DEFAULT '{}',
    engagement_tier       text NOT NULL,
    active_until          timestamptz,
    engaged_until         timestamptz,
    contribution_score    double precision NOT NULL DEFAULT 0,
    reaction_score        double precision NOT NULL DEFAULT 0,
    scores_at             timestamptz,
    last_interaction_at   timestamptz,
    last_left_at          timestamptz,
    last_unfollowed_at    timestamptz,
    last_complaint_at     timestamptz,
    first_purchase_at     timestamptz,
    last_purchase_at      timestamptz,
    home_store_id         text,
    sales                 integer NOT NULL DEFAULT 0,
    refunds               integer NOT NULL DEFAULT 0,
    sales_minor           bigint NOT NULL DEFAULT 0,
    refunds_minor         bigint NOT NULL DEFAULT 0,
    value_tier            text,
    p_alive               double precision,
    expected_purchases    double precision,
    clv_minor             bigint,
    value_at_risk_minor   bigint,
    next_review_at        timestamptz,
    state_version         integer NOT NULL DEFAULT 0
);
-- The sweeper claims due members through this index: its cost follows the members due.
CREATE INDEX members_due ON members (next_review_at) WHERE next_review_at IS NOT NULL;

-- Every sale, so a model can be fitted as of any date (`fit --until`), not only as of now.
CREATE TABLE sales (
    member_id     text NOT NULL,
    purchase_id   text NOT NULL,
    at            timestamptz NOT NULL,
    amount_minor  bigint NOT NULL,
    PRIMARY KEY (member_id, purchase_id)
);

-- One row per published transition: the history `explain` shows.
CREATE TABLE transitions (
    member_id        text NOT NULL,
    state_version    integer NOT NULL,
    at               timestamptz NOT NULL,
    from_lifecycle   text,
    to_lifecycle     text NOT NULL,
    engagement_tier  text NOT NULL,
    value_tier       text,
    reasons          text[] NOT NULL,
    PRIMARY KEY (member_id, state_version)
);

CREATE TABLE community_members (
    community_id  text NOT NULL,
    member_id     text NOT NULL,
    present       boolean NOT NULL,
    since         timestamptz NOT NULL,
    PRIMARY KEY (community_id, member_id)
);
CREATE INDEX community_members_member ON community_members (member_id);

CREATE TABLE community_activity (
    community_id  text PRIMARY KEY,
    joins         bigint NOT NULL DEFAULT 0,
    leaves        bigint NOT NULL DEFAULT 0,
    follows       bigint NOT NULL DEFAULT 0,
    unfollows     bigint NOT NULL DEFAULT 0,
    messages      bigint NOT NULL DEFAULT 0
);

-- The latest event time seen per input partition, and whether its last batch reached the end
-- of what had been published: the watermark is the minimum over partitions still catching up.
CREATE TABLE partition_clock (
    topic           text NOT NULL,
    partition       integer NOT NULL,
    max_event_time  timestamptz,
    caught_up       boolean NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- Events read ahead of a co-partitioned input that is still behind (a replay, a backlog): they
-- wait here until every input of their partition has caught up with them, so each member's
-- events are applied in event-time order whatever order the partitions were read in.
CREATE TABLE deferred_events (
    topic      text NOT NULL,
    partition  integer NOT NULL,
    "offset"   bigint NOT NULL,
    at         timestamptz NOT NULL,
    payload    jsonb NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX deferred_events_release ON deferred_events (partition, at);

CREATE TABLE model_params (
    version         serial PRIMARY KEY,
    fitted_at       timestamptz NOT NULL DEFAULT now(),
    data_until      timestamptz NOT NULL,
    members         integer NOT NULL,
    bgnbd           jsonb NOT NULL,
    spend           jsonb NOT NULL
);

CREATE TABLE rfm_cuts (
    version          serial PRIMARY KEY,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    as_of            timestamptz NOT NULL,
    buyers           integer NOT NULL,
    recency_days     double precision[] NOT NULL,
    frequency        double precision[] NOT NULL,
    monetary_minor   double precision[] NOT NULL
);
