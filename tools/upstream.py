"""Realistic upstream records in every source format, for tests, benchmarks and the demo.

Each generator returns the upstream's own bytes (WeChat XML, WeCom JSON, POS JSON, ...) with
the source format, the way an upstream system publishes them to ``raw.*.v1``. Ids embed a
run id, so concurrent runs against one stack never collide.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.contracts import SOURCE_FORMAT_HEADER

CHAT_TEXTS = (
    "今晚八点团购开始🎉",
    "早上好，今天有新鲜的草莓吗？",
    "Сәлеметсіз бе! Жеңілдік қашан басталады?",
    "سلام، تخفیف کی شروع می‌شود؟",
    "Is the oat milk back in stock? 🥛",
    "收到，谢谢群主👍",
)
SKUS = (("SKU-MILK-1L", 1290), ("SKU-EGGS-12", 1850), ("SKU-RICE-5KG", 4990), ("SKU-TEA-OOLONG", 6800))
STORES = ("store-sh-001", "store-sh-002", "store-bj-001")
CHAT_FORMATS = ("chat_json", "wecom_archive", "wechat_oa")
PURCHASE_FORMATS = ("pos_receipt", "ecom_order", "purchases_csv")
TOPIC_OF = {**dict.fromkeys(CHAT_FORMATS, "raw.chat.v1"), **dict.fromkeys(PURCHASE_FORMATS, "raw.purchase.v1")}


@dataclass(frozen=True)
class UpstreamRecord:
    source_format: str
    body: bytes
    # The upstream event id (run-unique), to find the canonical event it becomes.
    event_ref: str

    @property
    def topic(self) -> str:
        return TOPIC_OF[self.source_format]

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [(SOURCE_FORMAT_HEADER, self.source_format.encode())]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def chat_json(run: str, n: int, member: int, at: datetime, kind: str = "text") -> UpstreamRecord:
    ref = f"{run}-cj-{n}"
    event = {
        "source_event_id": ref,
        "community_id": f"estate-{member % 7}",
        "store_id": STORES[member % len(STORES)],
        "sender": {"id_type": "app_user_id", "id": f"{run}-app-{member}"},
        "sent_at": _iso(at),
        "kind": kind,
        "text": CHAT_TEXTS[n % len(CHAT_TEXTS)] if kind in ("text", "reply", "topic") else "",
    }
    if kind == "reply":
        event["reply_to"] = f"{run}-cj-{max(n - 1, 0)}"
    return UpstreamRecord("chat_json", json.dumps(event, ensure_ascii=False).encode(), ref)


def wecom_message(run: str, n: int, member: int, at: datetime) -> UpstreamRecord:
    ref = f"{run}-wc-{n}"
    record = {
        "msgid": ref,
        "action": "send",
        "from": f"wm{run}{member:06d}".ljust(32, "A"),  # WeCom external ids are 32 characters
        "tolist": ["staff_li"],
        "roomid": f"wr{member % 5}",
        "msgtime": int(at.timestamp() * 1000),
        "msgtype": "text",
        "text": {"content": CHAT_TEXTS[n % len(CHAT_TEXTS)]},
    }
    return UpstreamRecord("wecom_archive", json.dumps(record, ensure_ascii=False).encode(), ref)


def wechat_text(run: str, n: int, member: int, at: datetime, account: str = "gh_memberpulse") -> UpstreamRecord:
    ref = f"{run}{n:09d}"
    xml = (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<FromUserName><![CDATA[o{run}{member:08d}]]></FromUserName>"
        f"<CreateTime>{int(at.timestamp())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{CHAT_TEXTS[n % len(CHAT_TEXTS)]}]]></Content><MsgId>{ref}</MsgId></xml>"
    )
    return UpstreamRecord("wechat_oa", xml.encode(), ref)


def wechat_follow(run: str, member: int, at: datetime, account: str = "gh_memberpulse") -> UpstreamRecord:
    xml = (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<FromUserName><![CDATA[o{run}{member:08d}]]></FromUserName>"
        f"<CreateTime>{int(at.timestamp())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[subscribe]]></Event></xml>"
    )
    return UpstreamRecord("wechat_oa", xml.encode(), f"o{run}{member:08d}")


def _lines(n: int) -> list[dict[str, int | str]]:
    picked = [SKUS[(n + i) % len(SKUS)] for i in range(1 + n % 3)]
    return [
        {"sku": sku, "qty": 1 + (n + i) % 3, "unit_price_minor": price, "discount_minor": 0}
        for i, (sku, price) in enumerate(picked)
    ]


def pos_receipt(
    run: str,
    n: int,
    member: int,
    at: datetime,
    *,
    phone: str | None = None,
    kind: str = "sale",
    original: str | None = None,
) -> UpstreamRecord:
    ref = f"{run}-r{n}"
    lines = _lines(n)
    receipt: dict[str, object] = {
        "receipt_id": ref,
        "store_id": STORES[member % len(STORES)],
        "member": {"card_no": f"{run}-card-{member}", **({"phone": phone} if phone else {})},
        # Store-local wall time: the stores are all in Asia/Shanghai (UTC+8, no DST).
        "issued_at": (at + timedelta(hours=8)).replace(tzinfo=None).isoformat(timespec="seconds"),
        "currency": "CNY",
        "lines": lines,
        "total_minor": sum(int(line["qty"]) * int(line["unit_price_minor"]) for line in lines),
        "type": kind,
        **({"original_receipt_id": original} if original else {}),
    }
    return UpstreamRecord("pos_receipt", json.dumps(receipt).encode(), ref)


def ecom_order(
    run: str, n: int, member: int, at: datetime, *, version: int = 1, status: str = "paid", refund: bool = False
) -> UpstreamRecord:
    items = [
        {"sku": line["sku"], "quantity": line["qty"], "price": f"{int(line['unit_price_minor']) / 100:.2f}"}
        for line in _lines(n)
    ]
    order: dict[str, object] = {
        "order_id": f"{run}-o{n}",
        "version": version,
        "status": status,
        "customer": {"customer_id": f"{run}-cust-{member}"},
        "paid_at": _iso(at),
        "currency": "CNY",
        "items": items,
    }
    if refund:
        first = items[0]
        order["refund"] = {"items": [{"sku": first["sku"], "quantity": 1}], "amount": first["price"]}
    return UpstreamRecord("ecom_order", json.dumps(order).encode(), f"{run}-o{n}:v{version}")


def csv_receipt(run: str, n: int, member: int, at: datetime) -> UpstreamRecord:
    ref = f"{run}-csv{n}"
    out = io.StringIO()
    columns = [
        "receipt_id",
        "store_id",
        "card_no",
        "phone",
        "issued_at",
        "currency",
        "type",
        "original_receipt_id",
        "sku",
        "qty",
        "unit_price_minor",
        "discount_minor",
    ]
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    local = (at + timedelta(hours=8)).replace(tzinfo=None).isoformat(timespec="seconds")
    for line in _lines(n):
        writer.writerow(
            {
                "receipt_id": ref,
                "store_id": STORES[member % len(STORES)],
                "card_no": f"{run}-card-{member}",
                "phone": "",
                "issued_at": local,
                "currency": "CNY",
                "type": "sale",
                "original_receipt_id": "",
                **line,
            }
        )
    return UpstreamRecord("purchases_csv", out.getvalue().encode(), ref)


def realistic_mix(
    run: str, count: int, members: int, *, start: datetime | None = None, seed: int = 7
) -> Iterator[UpstreamRecord]:
    """A chain's day: mostly community chat, some follows, till receipts and web orders."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    start = start or datetime.now(UTC) - timedelta(days=1)
    step = timedelta(days=1) / max(count, 1)
    for n in range(count):
        member = rng.randrange(members)
        at = start + step * n
        roll = rng.random()
        if roll < 0.40:
            yield chat_json(run, n, member, at, kind=rng.choice(("text", "text", "reply", "reaction", "topic")))
        elif roll < 0.65:
            yield wecom_message(run, n, member, at)
        elif roll < 0.80:
            yield wechat_text(run, n, member, at)
        elif roll < 0.92:
            yield pos_receipt(run, n, member, at)
        elif roll < 0.98:
            yield ecom_order(run, n, member, at)
        else:
            yield csv_receipt(run, n, member, at)


def bad_records(run: str) -> list[tuple[str, bytes, str]]:
    """(source format, body, the rejection code ingest must give): every case carries ``run`` in its bytes."""
    receipt: dict[str, object] = {
        "receipt_id": f"{run}-bad",
        "store_id": "store-sh-001",
        "member": {"card_no": f"{run}-card"},
        "issued_at": "2026-01-01T10:00:00",
        "currency": "CNY",
        "lines": [{"sku": "SKU-MILK-1L", "qty": 1, "unit_price_minor": 100}],
        "total_minor": 100,
        "type": "sale",
    }
    chat: dict[str, object] = {
        "source_event_id": f"{run}-bad",
        "community_id": "estate-1",
        "sender": {"id_type": "app_user_id", "id": f"{run}-user"},
        "sent_at": "2026-01-01T00:00:00+00:00",
        "kind": "text",
        "text": "hi",
    }

    def variant(base: dict[str, object], **changes: object) -> bytes:
        return json.dumps({**base, **changes}).encode()

    bomb = '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    return [
        ("chat_json", f'{{"source_event_id": "{run}", "kind": "text"'.encode(), "invalid_json"),
        ("chat_json", b"\xff\xfe" + run.encode(), "invalid_utf8"),
        ("wechat_oa", f"<!-- {run} --><!DOCTYPE xml [{bomb}]><xml>&b;</xml>".encode(), "invalid_xml"),
        ("chat_json", f'{{"run": "{run}", "a": '.encode() + b"[" * 50 + b"]" * 50 + b"}", "too_deeply_nested"),
        ("chat_json", variant(chat, community_id=None), "missing_field"),
        ("chat_json", b'{"run": "' + run.encode() + b'", "x": "' + b"y" * 1_010_000 + b'"}', "too_large"),
        (
            "pos_receipt",
            variant(receipt, lines=[{"sku": "S", "qty": -3, "unit_price_minor": 100}], total_minor=-300),
            "invalid_quantity",
        ),
        (
            "pos_receipt",
            variant(receipt, lines=[{"sku": "S", "qty": 1, "unit_price_minor": 10**12}], total_minor=10**12),
            "invalid_amount",
        ),
        ("pos_receipt", variant(receipt, currency="XYZ"), "unknown_currency"),
        ("chat_json", variant(chat, sent_at="2099-01-01T00:00:00+00:00"), "timestamp_out_of_range"),
        ("chat_json", variant(chat, sent_at="1999-12-31T23:59:59+00:00"), "timestamp_out_of_range"),
        ("chat_json", variant(chat, sender={"id_type": "app_user_id", "id": "  "}), "empty_identity"),
        ("no_such_format", variant(chat), "unknown_source_format"),
    ]
