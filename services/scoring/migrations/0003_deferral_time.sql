-- When an event was held back, so the time it waited for its co-partitions can be measured.
ALTER TABLE deferred_events ADD COLUMN deferred_at timestamptz NOT NULL DEFAULT now();
