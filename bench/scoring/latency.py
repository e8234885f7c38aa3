"""Phase 3: published → state event consumed for brand-new members, beside one bare Kafka hop."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from bench.ingest_throughput import new_run_id, percentiles, progress
from bench.kafka_ops import (
    Ranges,
    produce_paced_records,
    ranges_between,
    upstream_producer,
)
from bench.outputs import OutputWatcher
from bench.scoring.config import GROUP, POLL_S, QUIET_S, STALL_S
from bench.scoring.figures import LatencyFigures
from bench.scoring.process import ScoringProcess, alive, mark, wait_idle
from bench.scoring.profiler import Profiler
from bench.scoring.stack import Bench
from shared.contracts import (
    ChatKind,
    CommunityAction,
    KafkaRecord,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
)
from shared.contracts.topics import MEMBER_STATE, SCORING_DLQ
from tools.member_history import as_record


def first_event(run: str, n: int, at: datetime) -> tuple[str, MemberEvent]:
    """The first event of a brand-new member: a sale, a chat message or a join, in turn."""
    ref = f"{run}_lat_{n:06d}"
    member, community, source_id = f"m_{ref}", f"bench-{run}", f"{ref}-first"
    if n % 3 == 0:
        line = PurchaseLine(sku="sku-milk-1l", category="dairy", qty=1, unit_price_minor=1_990, amount_minor=1_990)
        return ref, MemberPurchaseV1(
            member_id=member,
            occurred_at=at,
            purchase_id=source_id,
            kind=PurchaseKind.SALE,
            channel=PurchaseChannel.POS,
            store_id=f"store-{n % 20:03d}",
            currency="CNY",
            lines=(line,),
            total_minor=1_990,
            source="pos_receipt",
            source_event_id=source_id,
        )
    if n % 3 == 1:
        return ref, MemberChatV1(
            member_id=member,
            occurred_at=at,
            community_id=community,
            kind=ChatKind.MESSAGE,
            text="早上好！",
            source="chat_json",
            source_event_id=source_id,
        )
    return ref, MemberCommunityV1(
        member_id=member,
        occurred_at=at,
        community_id=community,
        action=CommunityAction.JOIN,
        source="wecom_archive",
        source_event_id=source_id,
    )


async def measure_latency(bench: Bench, scoring: ScoringProcess, profiler: Profiler | None) -> LatencyFigures:
    run = new_run_id()
    rate, seconds = bench.args.latency_rate, bench.args.latency_seconds
    bench.prefixes.append(f"m_{run}_")
    bench.communities.add(f"bench-{run}")
    base = datetime.now(UTC)
    records: list[tuple[str, KafkaRecord]] = []
    for n in range(int(rate * seconds)):
        ref, event = first_event(run, n, base + timedelta(seconds=n / rate))
        records.append((ref, as_record(event)))
    progress("phase 3: waiting until scoring is idle (lag 0, outbox published)…")
    await wait_idle(bench, scoring)
    state = OutputWatcher(
        bench.bootstrap, run, fetch_max_wait_ms=20, ref_field="member_id", dlq_topics=[SCORING_DLQ.name]
    )
    # The same events read straight off the input topics: one bare Kafka hop, for comparison.
    bare = OutputWatcher(bench.bootstrap, run, fetch_max_wait_ms=20, ref_field="member_id", dlq_topics=())
    await state.start(await bench.probe.partitions([MEMBER_STATE.name, SCORING_DLQ.name]))
    await bare.start(bench.inputs)
    producer = upstream_producer(bench.bootstrap)
    await producer.start()
    try:
        before = await bench.probe.end_offsets(bench.inputs)
        progress(f"phase 3: {len(records):,} new members' first events at {rate:,.0f}/s (run {run})…")
        if profiler is not None:
            profiler.start(scoring.service.process.pid)
        started_at = mark(scoring.sampler)
        began = time.perf_counter()
        sent = await produce_paced_records(producer, records, rate)
        sending_s = time.perf_counter() - began
        ranges = ranges_between(before, await bench.probe.end_offsets(bench.inputs))
        await wait_received(bench, scoring, state, sent, ranges)
        ended_at = mark(scoring.sampler)
    finally:
        if profiler is not None:
            profiler.stop()
        await producer.stop()
        await state.stop()
        await bare.stop()
    dead = state.dead_in(ranges)
    latencies = sorted(1000 * (state.received[ref] - at) for ref, at in sent.items() if ref in state.received)
    hops = sorted(1000 * (bare.received[ref] - at) for ref, at in sent.items() if ref in bare.received)
    cuts, bare_cuts = percentiles(latencies), percentiles(hops)
    return LatencyFigures(
        run=run,
        offered_rate=rate,
        seconds=seconds,
        sent=len(sent),
        achieved_rate=len(sent) / sending_s,
        received=len(latencies),
        dead_letters=dict(dead),
        lost=len(sent) - len(latencies) - sum(dead.values()),
        p50_ms=cuts["p50_ms"],
        p95_ms=cuts["p95_ms"],
        p99_ms=cuts["p99_ms"],
        max_ms=cuts["max_ms"],
        bare_hop_received=len(hops),
        bare_p50_ms=bare_cuts["p50_ms"],
        bare_p95_ms=bare_cuts["p95_ms"],
        bare_p99_ms=bare_cuts["p99_ms"],
        bare_max_ms=bare_cuts["max_ms"],
        process=scoring.sampler.window(started_at, ended_at),
        profile=profiler.summary() if profiler is not None else None,
    )


async def wait_received(
    bench: Bench, scoring: ScoringProcess, watcher: OutputWatcher, sent: dict[str, float], ranges: Ranges
) -> None:
    """Until every sent ref has its state event (or none came for QUIET_S) and the group's lag is 0."""
    last: tuple[int, int] | None = None
    changed_at = reported_at = time.monotonic()
    while True:
        alive(scoring)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        done = watcher.matched(sent) + sum(watcher.dead_in(ranges).values())
        now = time.monotonic()
        if (lag, done) != last:
            last, changed_at = (lag, done), now
        if lag == 0 and (done >= len(sent) or now - changed_at >= QUIET_S):
            return
        if now - changed_at >= STALL_S:
            return
        if now - reported_at >= 5.0:
            progress(f"  {done:,}/{len(sent):,} state events, group lag {lag:,}")
            reported_at = now
        await asyncio.sleep(POLL_S)
