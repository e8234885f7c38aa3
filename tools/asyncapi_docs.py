"""``python -m tools.asyncapi_docs [--check]``: write or verify docs/asyncapi/<service>.yaml.

The documents come from each service's FastStream app (``entrypoints/asyncapi.py``). FastStream
orders channels differently from run to run, so keys are sorted: the same code always gives
the same bytes, and ``--check`` can fail on real drift only.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import yaml

from shared.settings import SERVICE_NAMES
from tools.services import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "asyncapi"


def render(service: str) -> str:
    app = importlib.import_module(f"services.{service}.entrypoints.asyncapi").app
    document = app.schema.to_specification().to_jsonable()
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a document differs from the code")
    args = parser.parse_args(argv)
    DOCS.mkdir(parents=True, exist_ok=True)
    drifted = []
    for service in SERVICE_NAMES:
        path, text = DOCS / f"{service}.yaml", render(service)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                drifted.append(str(path.relative_to(REPO_ROOT)))
        else:
            path.write_text(text)
    if drifted:
        print(f"AsyncAPI documents drifted from the code: {drifted}; run `make docs`", file=sys.stderr)
        return 1
    verb = "checked" if args.check else "wrote"
    print(f"{verb} {len(SERVICE_NAMES)} AsyncAPI documents in {DOCS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
