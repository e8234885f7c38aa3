-- Per-member activity and derived state. Foundation shape; the scoring issue extends it.
CREATE TABLE member_activity (
    member_id        text PRIMARY KEY,
    first_seen_at    timestamptz NOT NULL,
    last_event_at    timestamptz NOT NULL,
    chat_events      integer NOT NULL DEFAULT 0,
    community_events integer NOT NULL DEFAULT 0,
    purchases        integer NOT NULL DEFAULT 0,
    spend_minor      bigint NOT NULL DEFAULT 0,
    lifecycle        text NOT NULL,
    engagement_tier  text NOT NULL,
    state_version    integer NOT NULL DEFAULT 0
);
