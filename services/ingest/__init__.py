"""ingest: upstream chat and purchase records in, clean member events out."""
