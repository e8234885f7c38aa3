"""campaigns: turns member state changes and purchases into offers, with caps, priorities and holdouts."""
