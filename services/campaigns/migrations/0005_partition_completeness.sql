-- How far each input partition is known complete (its owner's complete_until, with the upstream's
-- progress marks), so the timers fire by the slowest partition of the whole group: with two
-- replicas, one may run days of event time ahead while the other's partitions wait for a rebalance.
-- NULL until an owner records it; such a partition holds the clock back.
ALTER TABLE partition_clock ADD COLUMN complete_until timestamptz;
