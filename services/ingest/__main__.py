"""``python -m services.ingest``: run the ingest service."""

from services.ingest.entrypoints.service import DEFINITION
from shared.runtime import main

if __name__ == "__main__":
    main(DEFINITION)
