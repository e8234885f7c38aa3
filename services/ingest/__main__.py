"""``python -m services.ingest [run|replay|stores load|catalog load]``; no command runs the service."""

from services.ingest.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m services.ingest")
