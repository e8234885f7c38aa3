"""Operating the stack: readiness probes and the one-shot bootstrap (roles, schemas, topics)."""
