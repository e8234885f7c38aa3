"""Upstream format adapters: raw bytes in, one ``Parsed`` or ``Ignored`` record out."""
