-- Identity merges (member.merged.v1): a merged id points at its survivor, so events still in flight
-- under the merged id (they sit in another partition) land on the survivor, as scoring's do.
CREATE TABLE merged_members (
    merged_id  text PRIMARY KEY,
    survivor   text NOT NULL,
    merged_at  timestamptz NOT NULL
);
CREATE INDEX merged_members_survivor ON merged_members (survivor);
