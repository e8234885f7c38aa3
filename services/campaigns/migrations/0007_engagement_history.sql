-- Each member's community engagement as each state change left it (engaged_in: the communities of
-- an engaged member, none otherwise). Circle marketing looks at a moment once the whole group's
-- clock has passed it, when a replica running ahead may have stored newer states already: the
-- engaged are counted as of the moment from here. A row is let go once a newer one of the same
-- member is older than the clock by a week.
CREATE TABLE engagement_history (
    member_id     text NOT NULL,
    state_version integer NOT NULL,
    at            timestamptz NOT NULL,
    engaged_in    text[] NOT NULL,
    PRIMARY KEY (member_id, state_version)
);
CREATE INDEX engagement_history_engaged_in ON engagement_history USING gin (engaged_in);
