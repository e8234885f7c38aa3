"""MemberPulse's shared library: contracts and plumbing only, never domain logic.

Contracts (event models, topic registry, CloudEvents envelope), settings, Postgres
plumbing (pool, migrations, inbox, outbox), Kafka plumbing (batch consumer, DLQ,
relay, topic admin) and observability (metrics, logs, health endpoints).
"""
