"""``python -m services.notifier [run|contacts|templates|report]``; no command runs the service."""

from services.notifier.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m services.notifier")
