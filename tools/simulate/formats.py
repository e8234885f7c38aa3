"""Drafts in each upstream's own bytes, with upstream ids assigned in event-time order.

The shapes are the ones ingest's parsers read (``services/ingest/domain/formats``): chat_json from
the app, WeChat official-account XML pushes, WeCom archive JSON, POS receipts with store-local
times, purchases_csv exports (header plus one receipt's rows) and web-shop order versions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tools.simulate import identities
from tools.simulate.calendar import Window
from tools.simulate.chain import CURRENCY
from tools.simulate.events import AppChat, Draft, Line, OaPush, OrderVersion, Receipt, WecomMessage
from tools.simulate.model import ChainSpec, Meaning, Route
from tools.simulate.purchases import UNKNOWN_SKU_PREFIX

# What each app chat kind and WeCom message type is in the canonical contracts (docs/ingest.md).
_APP_KINDS = {
    "text": ("chat", "message"),
    "image": ("chat", "message"),
    "reply": ("chat", "reply"),
    "reaction": ("chat", "reaction"),
    "topic": ("chat", "topic_started"),
    "edit": ("chat", "edit"),
    "recall": ("chat", "recall"),
    "join": ("community", "join"),
    "leave": ("community", "leave"),
}
_WECOM_KINDS = {"text": "message", "image": "message", "emotion": "reaction", "revoke": "recall"}
_OA_KINDS = {
    "text": ("chat", "message"),
    "subscribe": ("community", "follow"),
    "unsubscribe": ("community", "unfollow"),
}

RECEIPT_COLUMNS = ("receipt_id", "store_id", "card_no", "phone", "issued_at", "currency", "type", "original_receipt_id")
CSV_COLUMNS = (*RECEIPT_COLUMNS, "sku", "qty", "unit_price_minor", "discount_minor")


@dataclass(frozen=True)
class Rendered:
    source_format: str
    body: bytes
    ref: str
    key: str
    route: Route
    expect: str  # "accepted" or "ignored"
    amount: tuple[str, int] | None = None  # a purchase's ("sale" | "refund", minor units), as ingest must see it
    meaning: Meaning | None = None


def compact_json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def csv_body(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _local(at: datetime, timezone: str) -> datetime:
    return at.astimezone(ZoneInfo(timezone))


def _minor_to_decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


class Renderer:
    def __init__(self, spec: ChainSpec, window: Window) -> None:
        self.run = spec.run
        self.window = window
        self.account = identities.official_account(spec.run)
        self._counters: Counter[str] = Counter()

    def _next(self, name: str) -> int:
        self._counters[name] += 1
        return self._counters[name]

    def route(self, source_format: str, at: datetime) -> Route:
        if at < self.window.backfill_until:
            return Route.FILE
        return Route.HTTP if source_format == "ecom_order" else Route.KAFKA

    def render(self, draft: Draft) -> Rendered:
        at = self.window.second(draft.t)
        if isinstance(draft, Receipt):
            return self._receipt(draft, at)
        if isinstance(draft, OrderVersion):
            return self._order(draft, at)
        if isinstance(draft, AppChat):
            return self._app_chat(draft, at)
        if isinstance(draft, OaPush):
            return self._oa(draft, at)
        if isinstance(draft, WecomMessage):
            return self._wecom(draft, at)
        raise TypeError(f"no rendering for {type(draft).__name__}")

    def _receipt(self, receipt: Receipt, at: datetime) -> Rendered:
        receipt.receipt_id = f"{self.run}-R{self._next('receipt'):08d}"
        receipt.ref = f"{receipt.store_id}:{receipt.receipt_id}"
        person = receipt.person
        issued = _local(at, receipt.timezone).replace(tzinfo=None).isoformat(timespec="seconds")
        phone = person.phone if receipt.with_phone and person.phone else None
        original = receipt.original.receipt_id if receipt.original is not None else None
        amount = ("sale" if receipt.kind == "sale" else "refund", sum(line.amount_minor for line in receipt.lines))
        meaning = Meaning(
            "purchase",
            amount[0],
            at,
            total_minor=amount[1],
            store_id=receipt.store_id,
            lines=_published_lines(receipt.lines),
        )
        file_or_csv = at < self.window.backfill_until or receipt.till == "csv"
        if file_or_csv:
            rows: list[dict[str, object]] = [
                {
                    "receipt_id": receipt.receipt_id,
                    "store_id": receipt.store_id,
                    "card_no": person.card_no,
                    "phone": phone or "",
                    "issued_at": issued,
                    "currency": CURRENCY,
                    "type": receipt.kind,
                    "original_receipt_id": original or "",
                    "sku": line.sku,
                    "qty": line.qty,
                    "unit_price_minor": line.unit_price_minor,
                    "discount_minor": line.discount_minor,
                }
                for line in receipt.lines
            ]
            body = csv_body(rows)
            route = self.route("purchases_csv", at)
            return Rendered("purchases_csv", body, receipt.ref, person.key, route, "accepted", amount, meaning)
        member: dict[str, str] = {"card_no": person.card_no or ""}
        if phone:
            member["phone"] = phone
        payload: dict[str, object] = {
            "receipt_id": receipt.receipt_id,
            "store_id": receipt.store_id,
            "member": member,
            "issued_at": issued,
            "currency": CURRENCY,
            "lines": [_pos_line(line) for line in receipt.lines],
            "total_minor": sum(line.amount_minor for line in receipt.lines),
            "type": receipt.kind,
        }
        if original:
            payload["original_receipt_id"] = original
        route = self.route("pos_receipt", at)
        return Rendered(
            "pos_receipt", compact_json(payload), receipt.ref, person.key, route, "accepted", amount, meaning
        )

    def _order(self, version: OrderVersion, at: datetime) -> Rendered:
        order, person = version.order, version.person
        if not order.order_id:
            order.order_id = f"{self.run}-W{self._next('order'):08d}"
        version.ref = f"{order.order_id}:v{version.version}"
        timezone = person.store.timezone
        paid_at = _local(self.window.second(order.paid_t), timezone)
        payload: dict[str, object] = {
            "order_id": order.order_id,
            "version": version.version,
            "status": version.status,
            "customer": {"customer_id": person.customer_id, "phone": person.phone},
            "paid_at": paid_at.isoformat(),
            "updated_at": _local(at, timezone).isoformat(),
            "currency": CURRENCY,
            "items": [
                {"sku": line.sku, "quantity": line.qty, "price": _minor_to_decimal(line.unit_price_minor)}
                for line in order.lines
            ],
        }
        if version.refund:
            payload["refund"] = {
                "items": [{"sku": sku, "quantity": qty} for sku, qty in version.refund],
                "amount": _minor_to_decimal(version.refund_minor),
            }
        # The web shop sends prices, not discounts: the sale is what its items add up to; a later
        # version refunds what its cumulative refund grew by (there is one refund version at most).
        sold = sum(line.qty * line.unit_price_minor for line in order.lines)
        amount = ("sale", sold) if version.version == 1 else ("refund", version.refund_minor)
        meaning = Meaning(
            "purchase",
            amount[0],
            paid_at.astimezone(at.tzinfo),
            total_minor=amount[1],
            lines=_published_lines(order.lines) if version.version == 1 else (),
        )
        route = self.route("ecom_order", at)
        return Rendered(
            "ecom_order", compact_json(payload), version.ref, person.key, route, "accepted", amount, meaning
        )

    def _app_chat(self, chat: AppChat, at: datetime) -> Rendered:
        chat.ref = f"{self.run}-cj-{self._next('chat_json'):08d}"
        person, community = chat.person, chat.community
        payload: dict[str, object] = {
            "source_event_id": chat.ref,
            "community_id": community.community_id,
            "store_id": community.store.store_id,
            "sender": {"id_type": "card_no", "id": person.card_no},
            "sent_at": _local(at, person.store.timezone).isoformat(),
            "kind": chat.kind,
        }
        if chat.text:
            payload["text"] = chat.text
        if chat.target is not None:
            field = "refers_to" if chat.kind in ("edit", "recall") else "reply_to"
            payload[field] = _ref_of(chat.target)
        topic, kind = _APP_KINDS[chat.kind]
        meaning = Meaning(topic, kind, at, community_id=community.community_id, text=chat.text)
        route = self.route("chat_json", at)
        return Rendered("chat_json", compact_json(payload), chat.ref, person.key, route, "accepted", meaning=meaning)

    def _oa(self, push: OaPush, at: datetime) -> Rendered:
        openid, created = push.person.key, int(at.timestamp())
        head = (
            f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
        )
        if push.kind == "text":
            push.ref = f"{self.run}{self._next('wechat_oa'):012d}"
            xml = (
                f"{head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{push.text}]]></Content>"
                f"<MsgId>{push.ref}</MsgId></xml>"
            )
            expect = "accepted"
        else:
            push.ref = f"{openid}:{created}:{push.kind}"
            key = "<EventKey><![CDATA[MENU_MEMBER_POINTS]]></EventKey>" if push.kind == "CLICK" else ""
            xml = f"{head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{push.kind}]]></Event>{key}</xml>"
            expect = "ignored" if push.kind == "CLICK" else "accepted"
        meaning = None
        if push.kind in _OA_KINDS:
            topic, kind = _OA_KINDS[push.kind]
            meaning = Meaning(topic, kind, at, community_id=f"wechat_oa:{self.account}", text=push.text)
        route = self.route("wechat_oa", at)
        return Rendered("wechat_oa", xml.encode(), push.ref, openid, route, expect, meaning=meaning)

    def _wecom(self, message: WecomMessage, at: datetime) -> Rendered:
        message.ref = f"{self.run}-wc-{self._next('wecom_archive'):08d}"
        digest = hashlib.sha256(message.ref.encode()).hexdigest()
        record: dict[str, object] = {
            "msgid": message.ref,
            "action": "recall" if message.msgtype == "revoke" else "send",
            "from": message.sender,
            "tolist": ["staff_li"] if not message.staff else [],
            "roomid": message.room,
            "msgtime": int(at.timestamp()) * 1000,
            "msgtype": message.msgtype,
        }
        if message.msgtype == "text":
            record["text"] = {"content": message.text}
        elif message.msgtype == "emotion":
            record["emotion"] = {"type": 1, "width": 120, "height": 120, "md5": digest[:32], "imagesize": 2048}
        elif message.msgtype == "image":
            record["image"] = {"md5sum": digest[:32], "filesize": 48_000 + int(digest[:4], 16)}
        elif message.target is not None:
            record["revoke"] = {"pre_msgid": _ref_of(message.target)}
        if message.staff:
            route = self.route("wecom_archive", at)
            return Rendered("wecom_archive", compact_json(record), message.ref, message.room, route, "ignored")
        text = message.text if message.msgtype == "text" else ""
        meaning = Meaning("chat", _WECOM_KINDS[message.msgtype], at, community_id=f"wecom:{message.room}", text=text)
        route = self.route("wecom_archive", at)
        return Rendered(
            "wecom_archive", compact_json(record), message.ref, message.person.key, route, "accepted", meaning=meaning
        )


def _pos_line(line: Line) -> dict[str, object]:
    return {
        "sku": line.sku,
        "qty": line.qty,
        "unit_price_minor": line.unit_price_minor,
        "discount_minor": line.discount_minor,
    }


def _ref_of(target: Draft) -> str:
    if not target.ref:
        raise AssertionError("a draft refers to one not rendered yet: drafts must be rendered in time order")
    return target.ref


def _published_lines(lines: tuple[Line, ...]) -> tuple[tuple[str, str | None, int], ...]:
    """The lines as ingest publishes them: no category for a SKU missing from the catalog."""
    return tuple(
        (line.sku, None if line.sku.startswith(UNKNOWN_SKU_PREFIX) else line.category, line.amount_minor)
        for line in lines
    )
