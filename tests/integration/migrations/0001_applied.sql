-- A test table that counts how often each event was applied: exactly once is the only right answer.
CREATE TABLE applied (
    event_id      text PRIMARY KEY,
    topic         text NOT NULL,
    times_applied integer NOT NULL
);
