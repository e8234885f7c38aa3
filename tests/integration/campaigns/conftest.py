"""campaigns as a real process on the test stack, from a clean slate, with the test's own campaigns."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.campaigns.entrypoints.topology import CONSUMES
from shared.contracts import MemberEvent, wrap
from shared.contracts.topics import OFFER_ISSUED, topic_for_contract
from shared.kafka.admin import describe_partitions, move_group_to_end
from shared.settings import DEFAULT_HTTP_PORTS
from tests.stack import Stack
from tools.services import RunningService, spawn_service, stop_services, wait_ready

PORT_OFFSET = 2300
TOKEN = "campaigns-test-management-token"
GROUP = "campaigns"
TABLES = (
    "campaigns",
    "campaign_versions",
    "members",
    "consents",
    "stores",
    "products",
    "decisions",
    "budget_days",
    "budget_totals",
    "basket_days",
    "category_days",
    "pair_days",
    "sku_days",
    "community_mentions",
    "community_fires",
    "partition_clock",
    "inbox",
    "outbox",
)


@dataclass
class CampaignsRig:
    """Start, stop, reset and feed campaigns; read its decisions and offers back."""

    stack: Stack
    folder: Path
    log_dir: Path
    producer: AIOKafkaProducer
    running: list[RunningService] = field(default_factory=list)
    offer_starts: dict[TopicPartition, int] = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        return self.stack.pg.dsn_for("campaigns")

    def port(self, replica: int = 0) -> int:
        return DEFAULT_HTTP_PORTS["campaigns"] + PORT_OFFSET + replica

    def define(self, *campaigns: dict[str, Any]) -> None:
        """The campaigns the service loads at start: exactly these."""
        for old in self.folder.glob("*.yaml"):
            old.unlink()
        for campaign in campaigns:
            (self.folder / f"{campaign['id']}.yaml").write_text(yaml.safe_dump(campaign, allow_unicode=True))

    def start(self, replicas: int = 1, **env: str) -> list[RunningService]:
        started = []
        for replica in range(replicas):
            service = spawn_service(
                "campaigns",
                self.log_dir,
                {
                    **self.stack.env(),
                    "MP_HTTP_MANAGEMENT_TOKEN": TOKEN,
                    "MP_CAMPAIGNS_DEFINITIONS_DIR": str(self.folder),
                    # Event time only: the test's history moves time, never the wall clock.
                    "MP_CAMPAIGNS_LIVE_CLOCK": "false",
                    "MP_CAMPAIGNS_ALLOWED_LATENESS_SECONDS": "0",
                    "MP_CAMPAIGNS_REFRESH_SECONDS": "1",
                    "MP_CAMPAIGNS_DUE_INTERVAL_SECONDS": "0.2",
                    **env,
                },
                self.port(replica),
            )
            started.append(service)
        self.running += started
        wait_ready(started, 90.0)
        return started

    def stop(self) -> dict[str, int]:
        codes = stop_services([s for s in self.running if s.process.poll() is None])
        self.running.clear()
        return codes

    async def reset(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            # Sequences are kept: the relay recognises its own records in the topic by outbox id.
            await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        finally:
            await conn.close()
        await move_group_to_end(self.stack.kafka.bootstrap_servers, GROUP, [t.name for t in CONSUMES])
        self.offer_starts = await self._ends(OFFER_ISSUED.name)

    async def _ends(self, topic: str) -> dict[TopicPartition, int]:
        counts = await describe_partitions(self.stack.kafka.bootstrap_servers, [topic])
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.kafka.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            return dict(await consumer.end_offsets([TopicPartition(topic, p) for p in range(counts[topic])]))
        finally:
            await consumer.stop()

    async def publish(self, events: Sequence[MemberEvent]) -> None:
        pending = []
        for event in events:
            record = wrap(event, topic=topic_for_contract(type(event)).name, source="test", event_id=str(uuid.uuid4()))
            pending.append(
                await self.producer.send(record.topic, record.value, key=record.key, headers=list(record.headers))
            )
        await asyncio.gather(*pending)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def lag(self) -> int:
        topics = [t.name for t in CONSUMES]
        counts = await describe_partitions(self.stack.kafka.bootstrap_servers, topics)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.stack.kafka.bootstrap_servers, group_id=GROUP, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
            ends = await consumer.end_offsets(partitions)
            total = 0
            for tp in partitions:
                total += ends[tp] - (await consumer.committed(tp) or 0)
            return total
        finally:
            await consumer.stop()

    async def wait_settled(self, timeout_s: float = 120.0) -> None:
        """All input consumed, nothing queued that is due, every outbox row published."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            if not await self.lag():
                [row] = await self.fetch("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
                if row["n"] == 0:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"campaigns did not settle in {timeout_s:.0f}s")
            await asyncio.sleep(0.3)

    async def offers(self) -> list[dict[str, Any]]:
        """Every offer published since the last reset, in topic order per partition."""
        ends = await self._ends(OFFER_ISSUED.name)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.kafka.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        out: list[dict[str, Any]] = []
        try:
            wanted = [tp for tp, end in ends.items() if end > self.offer_starts.get(tp, 0)]
            if not wanted:
                return []
            consumer.assign(wanted)
            for tp in wanted:
                consumer.seek(tp, self.offer_starts.get(tp, 0))
            remaining = set(wanted)
            while remaining:
                for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in records:
                        if record.offset < ends[tp]:
                            out.append(json.loads(record.value))
                    if records and records[-1].offset >= ends[tp] - 1:
                        remaining.discard(tp)
        finally:
            await consumer.stop()
        return out

    async def decisions(self) -> dict[str, asyncpg.Record]:
        rows = await self.fetch("SELECT * FROM decisions")
        return {r["member_id"] + "/" + r["campaign_id"] + "/" + r["occurrence"]: r for r in rows}


@pytest.fixture
async def campaigns_rig(bootstrapped: Stack, tmp_path: Path) -> AsyncIterator[CampaignsRig]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrapped.kafka.bootstrap_servers, enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    folder = tmp_path / "campaigns"
    folder.mkdir()
    rig = CampaignsRig(bootstrapped, folder, tmp_path / "logs", producer)
    await rig.reset()
    yield rig
    codes = rig.stop()
    await producer.stop()
    assert all(code == 0 for code in codes.values()), f"campaigns must stop cleanly on SIGTERM: {codes}"
