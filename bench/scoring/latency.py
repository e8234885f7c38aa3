"""Phase 3: published → state event consumed for brand-new members, beside one bare Kafka hop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bench.ingest_throughput import new_run_id, progress
from bench.kafka_ops import ranges_between
from bench.outputs import OutputWatcher
from bench.scoring.figures import LatencyFigures
from bench.scoring.process import metrics_delta, scoring_metrics
from bench.scoring.stack import Bench
from bench.service_bench.figures import cuts, delays_ms
from bench.service_bench.latency import latency_record, pacing, wait_outputs
from bench.service_bench.process import ServiceProcess, wait_idle
from bench.service_bench.profiler import Profiler
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


async def measure_latency(
    bench: Bench, processes: Sequence[ServiceProcess], profiler: Profiler | None
) -> LatencyFigures:
    scoring = processes[0]
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
    outputs = await bench.probe.partitions([MEMBER_STATE.name, SCORING_DLQ.name])
    metrics_before = await scoring_metrics(processes)
    async with pacing(bench, scoring, profiler, [(state, outputs), (bare, bench.inputs)]) as paced:
        before = await bench.probe.end_offsets(bench.inputs)
        progress(f"phase 3: {len(records):,} new members' first events at {rate:,.0f}/s (run {run})…")
        sent = await paced.send(records, rate)
        ranges = ranges_between(before, await bench.probe.end_offsets(bench.inputs))

        def answered() -> int:
            return state.matched(sent) + sum(state.dead_in(ranges).values())

        await wait_outputs(bench, scoring, len(sent), answered, "state events")
        paced.end()
    during = metrics_delta(metrics_before, await scoring_metrics(processes))
    dead = state.dead_in(ranges)
    latencies, hops = delays_ms(sent, state.received), delays_ms(sent, bare.received)
    own = {
        "received": len(latencies),
        "dead_letters": dict(dead),
        "lost": len(sent) - len(latencies) - sum(dead.values()),
        **cuts(latencies),
        "consumer_metrics": during,
    }
    return latency_record(LatencyFigures, run, paced, seconds, hops, **own)
