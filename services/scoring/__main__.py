"""``python -m services.scoring``: run the scoring service."""

from services.scoring.entrypoints.service import DEFINITION
from shared.runtime import main

if __name__ == "__main__":
    main(DEFINITION)
