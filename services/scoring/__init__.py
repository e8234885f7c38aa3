"""scoring: each member's engagement tier, value tier, lifecycle, P(alive) and value, on event time."""
