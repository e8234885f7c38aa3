"""``python -m services.notifier``: run the notifier service."""

from services.notifier.entrypoints.service import DEFINITION
from shared.runtime import main

if __name__ == "__main__":
    main(DEFINITION)
