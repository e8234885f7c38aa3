"""campaigns as a real process on the test stack, from a clean slate, with the test's own campaigns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from aiokafka import AIOKafkaProducer, TopicPartition

from services.campaigns.entrypoints.topology import CONSUMES
from shared.contracts.topics import OFFER_ISSUED
from tests.integration.service_rig import ServiceRig
from tests.stack import Stack
from tools.services import RunningService

PORT_OFFSET = 2300
TOKEN = "campaigns-test-management-token"


@dataclass
class CampaignsRig(ServiceRig):
    """Start, stop, reset and feed campaigns; read its decisions and offers back."""

    service = "campaigns"
    consumes = CONSUMES
    port_offset = PORT_OFFSET

    folder: Path = Path()
    offer_starts: dict[TopicPartition, int] = field(default_factory=dict)

    def define(self, *campaigns: dict[str, Any]) -> None:
        """The campaigns the service loads at start: exactly these."""
        for old in self.folder.glob("*.yaml"):
            old.unlink()
        for campaign in campaigns:
            (self.folder / f"{campaign['id']}.yaml").write_text(yaml.safe_dump(campaign, allow_unicode=True))

    def start(self, replicas: int = 1, **env: str) -> list[RunningService]:
        return self.spawn(
            {
                **self.stack.env(),
                "MP_HTTP_MANAGEMENT_TOKEN": TOKEN,
                "MP_CAMPAIGNS_DEFINITIONS_DIR": str(self.folder),
                # Event time only: the test's history moves time, never the wall clock.
                "MP_CAMPAIGNS_LIVE_CLOCK": "false",
                "MP_CAMPAIGNS_ALLOWED_LATENESS_SECONDS": "0",
                "MP_CAMPAIGNS_REFRESH_SECONDS": "1",
                "MP_CAMPAIGNS_DUE_INTERVAL_SECONDS": "0.2",
                # The tests publish states and purchases themselves, with no progress marks.
                "MP_KAFKA_FIRST_MARK_WAIT_MS": "0",
                **env,
            },
            replicas,
        )

    async def reset(self) -> None:
        await super().reset()
        self.offer_starts = await self.topic_ends(OFFER_ISSUED.name)

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
        return await self.read_since(OFFER_ISSUED.name, self.offer_starts)

    async def another_replica_complete_until(self, until: datetime) -> None:
        """A partition of another replica's (the consumer never owns partition 99 of a topic),
        complete up to ``until``: the group's clock is held there until it moves on."""
        await self.fetch(
            """INSERT INTO partition_clock (topic, partition, max_event_time, complete_until) VALUES ($1, 99, $2, $2)
               ON CONFLICT (topic, partition) DO UPDATE SET complete_until = $2""",
            "member.purchase.v1",
            until,
        )

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
    rig = CampaignsRig(bootstrapped, tmp_path / "logs", producer, folder=folder)
    await rig.reset()
    yield rig
    codes = rig.stop()
    await producer.stop()
    assert all(code == 0 for code in codes.values()), f"campaigns must stop cleanly on SIGTERM: {codes}"
