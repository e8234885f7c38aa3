"""Observability plumbing: Prometheus metrics, JSON logs, and the /metrics /healthz /readyz server."""
