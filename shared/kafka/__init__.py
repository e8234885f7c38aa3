"""Kafka plumbing: batch consumption with effectively-once semantics, DLQ, outbox relay, topic admin."""
