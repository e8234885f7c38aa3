"""``python -m services.campaigns [run|report|campaigns|stores|catalog]``; no command runs the service."""

from services.campaigns.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m services.campaigns")
