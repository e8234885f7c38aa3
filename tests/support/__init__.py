"""Test doubles that are real servers: provider sinks for the notifier."""
