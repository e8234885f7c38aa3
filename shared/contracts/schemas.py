"""JSON Schema export of every contract, for integrators who do not read Python.

``python -m shared.contracts.schemas [--check] [DIR]`` writes ``<topic>.schema.json`` per
topic into DIR (default ``docs/schemas``); ``--check`` fails when the files drift from code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.contracts.topics import ALL_TOPICS, TopicSpec


def schema_document(spec: TopicSpec) -> dict[str, object]:
    schema = spec.contract.model_json_schema()
    schema["$id"] = f"urn:memberpulse:topic:{spec.name}"
    schema["x-memberpulse-topic"] = {
        "name": spec.name,
        "key": spec.key,
        "partitions": spec.partitions,
        "config": spec.config,
        "event_type": getattr(spec.contract, "event_type", None),
    }
    return schema


def rendered() -> dict[str, str]:
    return {
        f"{spec.name}.schema.json": json.dumps(schema_document(spec), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
        for spec in ALL_TOPICS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", nargs="?", default="docs/schemas")
    parser.add_argument("--check", action="store_true", help="fail if the files on disk differ from the code")
    args = parser.parse_args(argv)
    target = Path(args.directory)
    files = rendered()
    if args.check:
        stale = [
            name for name, text in files.items() if not (target / name).is_file() or (target / name).read_text() != text
        ]
        extra = sorted(p.name for p in target.glob("*.schema.json") if p.name not in files)
        if stale or extra:
            print(f"JSON Schemas drifted from the contracts: {stale + extra}; run `make docs`", file=sys.stderr)
            return 1
        return 0
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text)
    for path in target.glob("*.schema.json"):
        if path.name not in files:
            path.unlink()
    print(f"wrote {len(files)} schemas to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
