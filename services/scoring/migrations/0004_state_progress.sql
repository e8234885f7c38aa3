-- How far each partition of member.state.v1 is published by the event batches, so the sweeper
-- can move the progress marks on once its reviews catch up (MP_SCORING_MARKS_AWAIT_REVIEWS).
CREATE TABLE state_progress (
    partition      integer PRIMARY KEY,
    handled_until  timestamptz NOT NULL
);
