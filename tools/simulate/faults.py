"""A sprinkling of what real upstreams also send: malformed records and exact re-sends.

Malformed records (``ChainSpec.bad_share`` of the good ones, 0.2 % by default) are damaged copies of
real ones, in the families of ``tools.upstream.bad_records`` (the 1 MB ``too_large`` case is left
out), each with the rejection code ingest gives it. They travel only where a bad record can travel
alone: Kafka, and the JSON Lines backfill files. Never over HTTP (the web shop validates its own
orders) and never inside the XML or CSV files, where one bad record would spoil the file for the
replay tool. Duplicates (about 1 %) are the same bytes sent again a little later on the same route;
they are kept out of the CSV export, where a receipt's rows appearing twice would make one receipt
with doubled lines.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tools.simulate.formats import CSV_COLUMNS, RECEIPT_COLUMNS, compact_json
from tools.simulate.model import Route, SimRecord

DUPLICATE_SHARE = 0.01
JSONL_FORMATS = ("chat_json", "wecom_archive", "ecom_order")

Family = Callable[[SimRecord, str], tuple[bytes, str]]


def _payload(record: SimRecord) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(record.body)
    return payload


def _truncated(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    text = record.body.decode()
    return text[: len(text) * 2 // 3].encode(), "invalid_json" if record.source_format != "wechat_oa" else "invalid_xml"


def _json_with(field: str, value: object, code: str, *, id_field: str) -> Family:
    def damage(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
        payload = _payload(record) | {id_field: bad_id}
        if value is None:
            payload.pop(field, None)
        else:
            payload[field] = value
        return compact_json(payload), code

    return damage


def _appended(tail: bytes, code: str, *, id_field: str) -> Family:
    def damage(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
        return compact_json(_payload(record) | {id_field: bad_id})[:-1] + tail + b"}", code

    return damage


def _sender(value: dict[str, str], code: str) -> Family:
    def damage(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
        payload = _payload(record) | {"source_event_id": bad_id}
        payload["sender"] = {
            "id_type": value.get("id_type", payload["sender"]["id_type"]),
            "id": value.get("id", payload["sender"]["id"]),
        }
        return compact_json(payload), code

    return damage


def _naive_sent_at(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    payload = _payload(record) | {"source_event_id": bad_id}
    payload["sent_at"] = str(payload["sent_at"])[:19]  # the offset dropped
    return compact_json(payload), "invalid_timestamp"


def _receipt_line(field: str, value: object, code: str) -> Family:
    def damage(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
        payload = _payload(record) | {"receipt_id": bad_id}
        payload["lines"] = [payload["lines"][0] | {field: value}, *payload["lines"][1:]]
        return compact_json(payload), code

    return damage


def _receipt_phone(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    payload = _payload(record) | {"receipt_id": bad_id}
    digits = "".join(ch for ch in payload["member"].get("phone", "13800138000") if ch.isdigit())
    payload["member"] = payload["member"] | {"phone": digits + "0000"}  # a cashier leaning on the 0 key
    return compact_json(payload), "invalid_phone"


def _receipt_total(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    payload = _payload(record) | {"receipt_id": bad_id}
    payload["total_minor"] = int(payload["total_minor"]) + 100
    return compact_json(payload), "total_mismatch"


def _receipt_offset(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    payload = _payload(record) | {"receipt_id": bad_id}
    payload["issued_at"] = f"{payload['issued_at']}+08:00"  # a till with a misconfigured clock
    return compact_json(payload), "invalid_timestamp"


def _csv_rows(record: SimRecord, bad_id: str) -> list[dict[str, str]]:
    lines = record.body.decode().splitlines()
    rows = [dict(zip(CSV_COLUMNS, line.split(","), strict=True)) for line in lines[1:]]
    return [row | {"receipt_id": bad_id} for row in rows]


def _csv(rows: list[dict[str, str]], columns: Sequence[str]) -> bytes:
    return ("\n".join([",".join(columns)] + [",".join(row[c] for c in columns) for row in rows]) + "\n").encode()


def _csv_without_currency(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    return _csv(_csv_rows(record, bad_id), [c for c in CSV_COLUMNS if c != "currency"]), "invalid_csv"


def _csv_cell(field: str, value: str, code: str) -> Family:
    """One cell changed: on the first row for a line column, on every row for a receipt column."""

    def damage(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
        rows = _csv_rows(record, bad_id)
        changed = len(rows) if field in RECEIPT_COLUMNS else 1
        return _csv([row | {field: value} for row in rows[:changed]] + rows[changed:], CSV_COLUMNS), code

    return damage


def _xml_without(tag: str) -> Family:
    def damage(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
        return re.sub(rf"<{tag}>.*?</{tag}>".encode(), b"", record.body, count=1), "missing_field"

    return damage


def _xml_bomb(record: SimRecord, bad_id: str) -> tuple[bytes, str]:
    bomb = '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    return f"<!-- {bad_id} --><!DOCTYPE xml [{bomb}]><xml>&b;</xml>".encode(), "invalid_xml"


_NESTED = b',"attachments":' + b"[" * 40 + b"]" * 40
_NOT_UTF8 = b',"note":"\xc3\x28"'
FAMILIES: dict[str, tuple[Family, ...]] = {
    "chat_json": (
        _truncated,
        _appended(_NOT_UTF8, "invalid_utf8", id_field="source_event_id"),
        _appended(_NESTED, "too_deeply_nested", id_field="source_event_id"),
        _json_with("community_id", None, "missing_field", id_field="source_event_id"),
        _json_with("kind", "sticker", "unknown_kind", id_field="source_event_id"),
        _json_with("sent_at", "1999-12-31T23:59:59+00:00", "timestamp_out_of_range", id_field="source_event_id"),
        _naive_sent_at,
        _sender({"id_type": "passport"}, "unknown_id_type"),
        _sender({"id": "  "}, "empty_identity"),
    ),
    "wecom_archive": (
        _truncated,
        _appended(_NOT_UTF8, "invalid_utf8", id_field="msgid"),
        _json_with("msgid", None, "missing_field", id_field="msgid"),
        _json_with("msgtype", "hologram", "unknown_kind", id_field="msgid"),
        _json_with("msgtime", "yesterday", "invalid_timestamp", id_field="msgid"),
    ),
    "wechat_oa": (_truncated, _xml_bomb, _xml_without("CreateTime")),
    "pos_receipt": (
        _receipt_line("qty", -1, "invalid_quantity"),
        _receipt_line("unit_price_minor", 10**12, "invalid_amount"),
        _json_with("currency", "XYZ", "unknown_currency", id_field="receipt_id"),
        _json_with("issued_at", None, "missing_field", id_field="receipt_id"),
        _receipt_total,
        _receipt_phone,
        _receipt_offset,
    ),
    "purchases_csv": (
        _csv_without_currency,
        _csv_cell("qty", "0", "invalid_quantity"),
        _csv_cell("issued_at", "yesterday", "invalid_timestamp"),
    ),
    "ecom_order": (
        _json_with("currency", "XYZ", "unknown_currency", id_field="order_id"),
        _json_with("status", "shipped", "unknown_kind", id_field="order_id"),
        _json_with("items", [], "missing_field", id_field="order_id"),
        _json_with("customer", {}, "empty_identity", id_field="order_id"),
    ),
}


def _last_moment(end: datetime, at: datetime, rng: random.Random, longest: int) -> datetime | None:
    later = at + timedelta(seconds=rng.randint(1, longest))
    if later >= end:
        later = end - timedelta(seconds=1)
    return later if later > at else None


def malformed(
    records: Sequence[SimRecord], run: str, end: datetime, rng: random.Random, share: float
) -> list[SimRecord]:
    """Damaged copies of real records, each expecting its rejection code, sent seconds after the original."""
    eligible = [
        r
        for r in records
        if r.expect == "accepted"
        and (r.route is Route.KAFKA or (r.route is Route.FILE and r.source_format in JSONL_FORMATS))
    ]
    bad: list[SimRecord] = []
    for n in range(round(len(records) * share) if eligible else 0):
        template = eligible[rng.randrange(len(eligible))]
        bad_id = f"{run}-bad-{n + 1:05d}"
        source_format = template.source_format
        if template.route is Route.KAFKA and rng.random() < 0.05:
            body, code, source_format = template.body, "unknown_source_format", "no_such_format"
        else:
            body, code = rng.choice(FAMILIES[source_format])(template, bad_id)
        at = _last_moment(end, template.at, rng, 30)
        if at is not None:
            bad.append(SimRecord(at, source_format, body, template.key, template.route, f"dlq:{code}", bad_id))
    return bad


def duplicates(records: Sequence[SimRecord], end: datetime, rng: random.Random) -> list[SimRecord]:
    """Records sent again, byte for byte, seconds to two hours later on the same route."""
    eligible = [
        r
        for r in records
        if r.expect == "accepted" and not (r.route is Route.FILE and r.source_format == "purchases_csv")
    ]
    picked = sorted(rng.sample(range(len(eligible)), min(round(len(records) * DUPLICATE_SHARE), len(eligible))))
    again = []
    for index in picked:
        original = eligible[index]
        at = _last_moment(end, original.at, rng, 7200)
        if at is not None:
            again.append(replace(original, at=at, expect="duplicate"))
    return again
