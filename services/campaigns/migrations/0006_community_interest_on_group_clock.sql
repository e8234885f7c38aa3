-- Circle marketing fires on the group's clock. Every mention is kept (not only each member's latest),
-- per campaign, and each campaign looks at a community's mentions in event-time order once every
-- input partition is complete up to them: two replicas reading at different paces then find the
-- same moments. looked_until: how far the campaign has looked (a late mention sends it back).
CREATE TABLE community_mention_log (
    campaign_id  text NOT NULL,
    community_id text NOT NULL,
    category     text NOT NULL,
    at           timestamptz NOT NULL,
    member_id    text NOT NULL,
    PRIMARY KEY (campaign_id, community_id, category, at, member_id)
);
CREATE TABLE community_interest_progress (
    campaign_id  text NOT NULL,
    community_id text NOT NULL,
    category     text NOT NULL,
    looked_until timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, community_id, category)
);
-- Each member's latest mention only: a mention arriving after a later one of the same member was lost.
DROP TABLE community_mentions;
