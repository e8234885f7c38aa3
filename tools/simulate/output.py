"""The simulation's folder: registries, contacts, the truth per person, the manifest and backfill files.

The backfill files are what ``python -m services.ingest replay FILE --source S --layout L`` reads:
JSON Lines (one record per line), the official account's pushes as ``<xml>`` messages under one
``<msgs>`` root, and the POS export as one CSV with a single header (replay regroups its rows
into receipts).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.simulate import identities
from tools.simulate.calendar import Window
from tools.simulate.model import TOPIC_OF, Route, SimRecord
from tools.simulate.people import FOLLOWER, WECOM, Person
from tools.simulate.purchases import POPUP_STORE, UNKNOWN_SKU_PREFIX

if TYPE_CHECKING:
    from tools.simulate.simulation import Simulation

CONTACT_COLUMNS = ("card_no", "phone", "email", "wechat_openid", "app_user_id", "locale", "time_zone")
_LAYOUTS = {"purchases_csv": ("csv", "csv"), "wechat_oa": ("xml", "xml")}  # the rest: JSON Lines


def backfill_file(source_format: str) -> tuple[str, str]:
    """(file name under backfill/, replay layout) for a format's backfill records."""
    extension, layout = _LAYOUTS.get(source_format, ("jsonl", "jsonl"))
    return f"{source_format}.{extension}", layout


def community_of(person: Person, run: str) -> str | None:
    """The community id ingest gives the person's chat (for chat-only people, the OA's or the WeCom group's)."""
    if person.kind == FOLLOWER:
        return f"wechat_oa:{identities.official_account(run)}"
    if person.kind == WECOM:
        return f"wecom:{identities.wecom_room(run, person.store.store_id)}"
    return person.community.community_id if person.community is not None else None


def _when(window: Window, hour: float | None) -> str | None:
    return window.moment(hour).isoformat() if hour is not None and hour < window.hours else None


def truth(persons: Sequence[Person], records: Sequence[SimRecord], window: Window, run: str) -> list[dict[str, Any]]:
    first: dict[bytes, datetime] = {}
    for record in records:
        if record.expect == "accepted" and (record.key not in first or record.at < first[record.key]):
            first[record.key] = record.at
    rows = []
    for p in persons:
        seen = first.get(p.key.encode())
        rows.append(
            {
                "kind": p.kind,
                "key": p.key,
                "card_no": p.card_no,
                "customer_id": p.customer_id,
                "phone": p.phone,
                "external_id": None if p.card_no else p.key,
                "store_id": p.store.store_id,
                "community_id": community_of(p, run),
                "locale": p.locale,
                "chat_habit": p.chat_habit,
                "purchase_rate_per_week": p.purchases_per_week,
                "online": p.online,
                "churned_at": _when(window, p.churn),
                "churn_style": p.churn_style if p.churn is not None and p.churn < window.hours else None,
                "returned_at": _when(window, p.back) if p.churn is not None and p.churn < window.hours else None,
                "first_seen": seen.isoformat() if seen else None,
            }
        )
    return rows


def _csv_text(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def manifest(sim: Simulation) -> dict[str, Any]:
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for record in sim.records:
        counts[record.source_format][record.route.value][record.expect] += 1
    expects = Counter(r.expect for r in sim.records)
    accepted = [r for r in sim.records if r.expect == "accepted"]
    files = Counter(r.source_format for r in sim.records if r.route is Route.FILE)
    card = [t for t in sim.truth if t["kind"] == "card_member"]
    churned = [t for t in card if t["churned_at"]]
    return {
        "spec": sim.spec.as_json(),
        "history": {
            "start": sim.window.start.isoformat(),
            "end": sim.window.end.isoformat(),
            "backfill_until": sim.window.backfill_until.isoformat(),
        },
        "records": len(sim.records),
        "by_route": dict(sorted(Counter(r.route.value for r in sim.records).items())),
        "by_expect": dict(sorted(expects.items())),
        "counts": {
            f: {route: dict(sorted(c.items())) for route, c in sorted(r.items())} for f, r in sorted(counts.items())
        },
        "dlq_planted": dict(sorted(Counter(e[4:] for e in expects.elements() if e.startswith("dlq:")).items())),
        "duplicates_planted": expects["duplicate"],
        "ignored_planted": expects["ignored"],
        # Accepted and flagged by ingest (unknown_store, unknown_skus), so the registry can be completed.
        "flagged": {
            "unknown_store_receipts": sum(1 for r in accepted if POPUP_STORE.encode() in r.body),
            "unknown_sku_records": sum(1 for r in accepted if UNKNOWN_SKU_PREFIX.encode() in r.body),
        },
        "persons": dict(sorted(Counter(t["kind"] for t in sim.truth).items())),
        "persons_seen": sum(1 for t in sim.truth if t["first_seen"]),
        "card_members": {
            "churned": len(churned),
            "returned": sum(1 for t in churned if t["returned_at"]),
            "churn_styles": dict(sorted(Counter(t["churn_style"] for t in churned).items())),
            "chat_habits": dict(sorted(Counter(t["chat_habit"] for t in card).items())),
            "online": sum(1 for t in card if t["online"]),
        },
        "communities": sim.communities,
        "interest_bursts": sim.bursts,
        "topics": dict(TOPIC_OF),
        "files": [
            {"path": f"backfill/{backfill_file(f)[0]}", "source": f, "layout": backfill_file(f)[1], "records": n}
            for f, n in sorted(files.items())
        ],
        "replay": [_replay_command(f) for f in sorted(files)],
    }


def _replay_command(source_format: str) -> str:
    name, layout = backfill_file(source_format)
    return f"python -m services.ingest replay backfill/{name} --source {source_format} --layout {layout}"


def backfill_bytes(records: Sequence[SimRecord]) -> dict[str, bytes]:
    """Each format's backfill file contents, by file name."""
    by_format: dict[str, list[bytes]] = defaultdict(list)
    for record in records:
        if record.route is Route.FILE:
            by_format[record.source_format].append(record.body)
    files = {}
    for source_format, bodies in by_format.items():
        name, layout = backfill_file(source_format)
        if layout == "csv":
            header = bodies[0].split(b"\n", 1)[0] + b"\n"
            files[name] = header + b"".join(body.split(b"\n", 1)[1] for body in bodies)
        elif layout == "xml":
            files[name] = b'<?xml version="1.0" encoding="utf-8"?>\n<msgs>\n' + b"\n".join(bodies) + b"\n</msgs>\n"
        else:
            files[name] = b"".join(body + b"\n" for body in bodies)
    return files


def write(sim: Simulation, folder: Path) -> list[Path]:
    """Write the simulation's files under ``folder``; returns the paths written."""
    (folder / "backfill").mkdir(parents=True, exist_ok=True)
    contents = {
        "stores.csv": _csv_text(sim.stores, ("store_id", "name", "timezone", "region", "city")),
        "products.csv": _csv_text(sim.products, ("sku", "name", "category", "brand", "price_tier")),
        "communities.csv": _csv_text(sim.communities, ("community_id", "name", "store_id")),
        "contacts.csv": _csv_text(sim.contacts, CONTACT_COLUMNS),
        "truth.jsonl": b"".join(json.dumps(t, ensure_ascii=False).encode() + b"\n" for t in sim.truth),
        "manifest.json": json.dumps(sim.manifest(), ensure_ascii=False, indent=2).encode() + b"\n",
    }
    contents |= {f"backfill/{name}": data for name, data in backfill_bytes(sim.records).items()}
    written = []
    for name, data in contents.items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written
