"""Applying a batch of parsed upstream records: resolve members, look up references, publish canonical events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from services.ingest.adapters import metrics, repository
from services.ingest.domain.canonical import CanonicalEvent, References, canonical_events
from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.model import Identifier, Ignored, OrderVersion, Parsed, ReceiptDraft
from services.ingest.domain.purchases import purchase_event_id
from services.ingest.domain.resolution import resolve
from shared.contracts import (
    KafkaRecord,
    MemberChatV1,
    MemberCommunityV1,
    MemberMergedV1,
    MemberPurchaseV1,
    NotificationReceiptV1,
    derived_event_id,
    topic_for_contract,
    wrap,
)
from shared.kafka.consumer import Handler
from shared.kafka.records import Decoded, UnitOfWork

SOURCE = "memberpulse/ingest"
_TOPICS = {
    contract: topic_for_contract(contract).name
    for contract in (MemberChatV1, MemberCommunityV1, MemberPurchaseV1, MemberMergedV1, NotificationReceiptV1)
}


@dataclass(frozen=True)
class IngestPolicy:
    # Zone for POS receipts from stores missing in the registry (they are flagged unknown_store).
    default_timezone: str = "Asia/Shanghai"


def canonical_publisher(policy: IngestPolicy) -> Handler[Parsed | Ignored]:
    async def handle(uow: UnitOfWork, batch: Sequence[Decoded[Parsed | Ignored]]) -> None:
        for item in batch:
            if isinstance(item.payload, Ignored):
                metrics.IGNORED.labels(item.payload.source, item.payload.reason).inc()
        parsed = [cast(Decoded[Parsed], item) for item in batch if isinstance(item.payload, Parsed)]
        if parsed:
            await _apply(uow, parsed, policy)

    return handle


async def _apply(uow: UnitOfWork, batch: Sequence[Decoded[Parsed]], policy: IngestPolicy) -> None:
    conn = uow.conn
    records = [item.payload for item in batch]
    digests = {i.digest for record in records for i in record.identifiers}
    links = await repository.links_for(conn, digests)
    first_seen = await repository.first_seen(conn, set(links.values()))
    receipts = [r.body for r in records if isinstance(r.body, ReceiptDraft)]
    orders = [r.body for r in records if isinstance(r.body, OrderVersion)]
    skus = {line.sku for receipt in receipts for line in receipt.lines}
    skus |= {line.sku for order in orders for line in (*order.items, *order.refunded_items)}
    refs = References(
        stores=await repository.stores_for(conn, {r.store_id for r in receipts}),
        products=await repository.products_for(conn, skus),
        orders=await repository.lock_orders(conn, {o.order_id for o in orders}),
        default_timezone=policy.default_timezone,
    )
    touched_orders = {o.order_id for o in orders}
    fresh: set[Identifier] = {i for r in records for i in r.identifiers if i.digest not in links}
    to_link: dict[Identifier, str] = {}
    sightings: list[tuple[str, str, datetime]] = []
    unknown: dict[str, Counter[str]] = {"store": Counter(), "sku": Counter()}
    now = datetime.now(UTC)

    for item in batch:
        record = item.payload
        resolution = resolve(record.identifiers, links, first_seen)
        try:
            events = canonical_events(record, resolution.member_id, refs, now)
        except InvalidRecord as exc:
            uow.reject(item, exc.code, exc.message)
            continue
        when = min((e.occurred_at for e in events), default=None) or now
        for merge in resolution.merges:
            for digest, member in list(links.items()):
                if member == merge.merged:
                    links[digest] = merge.survivor
            await repository.fold_member(conn, merge.merged, merge.survivor)
            merged = MemberMergedV1(
                member_id=merge.survivor, occurred_at=when, merged_member_id=merge.merged, reason=merge.reason
            )
            uow.publish(_wrap(merged, derived_event_id(SOURCE, f"merge:{merge.merged}:{merge.survivor}")))
            metrics.MEMBERS_MERGED.inc()
        for identifier in resolution.links:
            links[identifier.digest] = resolution.member_id
            to_link[identifier] = resolution.member_id
        if resolution.is_new_member:
            metrics.MEMBERS_CREATED.inc()
        first_seen[resolution.member_id] = min(first_seen.get(resolution.member_id, when), when)
        sightings.append((resolution.member_id, record.source, when))
        for event in events:
            uow.publish(_wrap(event, _event_id(item, event)))
            if isinstance(event, MemberPurchaseV1):
                if event.unknown_store and event.store_id:
                    unknown["store"][event.store_id] += 1
                unknown["sku"].update(event.unknown_skus)

    await repository.save_links(conn, to_link, fresh & set(to_link))
    await repository.touch_members(conn, sightings)
    await repository.save_orders(conn, (refs.orders[o] for o in sorted(touched_orders) if o in refs.orders))
    for kind, refs_seen in unknown.items():
        await repository.count_unknown(conn, kind, refs_seen)
        metrics.UNKNOWN_REFERENCES.labels(kind).inc(sum(refs_seen.values()))


def _event_id(item: Decoded[Parsed], event: CanonicalEvent) -> str:
    # A purchase is named by its purchase id, so a POS receipt and its CSV export are one event.
    return purchase_event_id(event) if isinstance(event, MemberPurchaseV1) else item.event_id


def _wrap(event: CanonicalEvent | MemberMergedV1, event_id: str) -> KafkaRecord:
    return wrap(event, topic=_TOPICS[type(event)], source=SOURCE, event_id=event_id)
