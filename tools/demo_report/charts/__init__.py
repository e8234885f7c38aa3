"""One module per chart family; each returns a ``Chart`` (inline SVG, title, caption)."""
