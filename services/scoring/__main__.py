"""``python -m services.scoring [run|fit|tiers|explain]``; no command runs the service."""

from services.scoring.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m services.scoring")
