"""``python -m bench.harness [--quick] [--skip PART ...]``: see ``bench.harness.cli``."""

import sys

from bench.harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
