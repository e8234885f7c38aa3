"""Postgres plumbing: pool factory, migrations, inbox, outbox and role provisioning."""
