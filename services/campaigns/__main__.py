"""``python -m services.campaigns``: run the campaigns service."""

from services.campaigns.entrypoints.service import DEFINITION
from shared.runtime import main

if __name__ == "__main__":
    main(DEFINITION)
