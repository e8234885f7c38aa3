"""notifier as a real process on the test stack, sending to real local provider servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from services.notifier.adapters import contact_repository
from services.notifier.domain.messages import Contact
from services.notifier.entrypoints.topology import CONSUMES
from shared.contracts import Channel, MessageType, OfferIssuedV1
from shared.contracts.topics import MEMBER_CONSENT, NOTIFICATION_STATUS
from tests.integration.service_rig import ServiceRig
from tests.stack import Stack
from tools.provider_sinks import (
    SMS_AUTH,
    WEBHOOK_SECRET,
    WECHAT_APPID,
    WECHAT_SECRET,
    ProviderSink,
    SinkProcess,
)
from tools.services import RunningService

PORT_OFFSET = 2400
TOKEN = "notifier-test-management-token"
UNSUBSCRIBE_SECRET = "notifier-test-unsubscribe-secret"
INBOUND_SECRET = "notifier-test-inbound-secret"


def offer(member_id: str, n: int = 0, **fields: Any) -> OfferIssuedV1:
    values: dict[str, Any] = {
        "member_id": member_id,
        "occurred_at": datetime.now(UTC),
        "offer_id": f"offer-{member_id}-{n}",
        "campaign_id": "welcome",
        "campaign_kind": "lifecycle_entered",
        "message_type": MessageType.GREETING,
        "channels": (Channel.SMS,),
        "template": "welcome",
        "locale": "zh-CN",
        "variables": {},
    }
    values.update(fields)
    return OfferIssuedV1(**values)


def phone_of(i: int) -> str:
    return f"+86138{i:08d}"


@dataclass
class NotifierRig(ServiceRig):
    service = "notifier"
    consumes = CONSUMES
    port_offset = PORT_OFFSET

    provider_sink: ProviderSink | None = None
    # Where the providers are: the in-process sink's, or a sink process's for timing-exact tests.
    sink_url: str = ""
    status_starts: dict[TopicPartition, int] | None = None
    consent_starts: dict[TopicPartition, int] | None = None

    def provider_env(self, **limits: float) -> dict[str, str]:
        base = self.sink_url or self.sink.url
        rate_limits = {name: {"per_second": rate, "burst": max(1.0, rate / 10)} for name, rate in limits.items()}
        return {
            "MP_NOTIFIER_SMS": json.dumps({"url": f"{base}/sms/send", "auth_value": SMS_AUTH, "timeout_s": 1.0}),
            "MP_NOTIFIER_WECHAT": json.dumps(
                {
                    "base_url": base,
                    "appid": WECHAT_APPID,
                    "secret": WECHAT_SECRET,
                    "template_ids": {t.value: f"tmpl-{t.value}" for t in MessageType},
                    "timeout_s": 1.0,
                }
            ),
            "MP_NOTIFIER_WEBHOOK": json.dumps({"url": f"{base}/webhook", "secret": WEBHOOK_SECRET, "timeout_s": 1.0}),
            "MP_NOTIFIER_RATE_LIMITS": json.dumps(rate_limits),
        }

    def start(self, replicas: int = 1, limits: dict[str, float] | None = None, **env: str) -> list[RunningService]:
        return self.spawn(
            {
                **self.stack.env(),
                "MP_HTTP_MANAGEMENT_TOKEN": TOKEN,
                "MP_NOTIFIER_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET,
                "MP_NOTIFIER_INBOUND_SECRET": INBOUND_SECRET,
                "MP_NOTIFIER_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port()}",
                "MP_NOTIFIER_RETRY_BASE_SECONDS": "0.5",
                "MP_NOTIFIER_LEASE_SECONDS": "5",
                **self.provider_env(**(limits or {"sms": 1000, "wechat": 1000, "webhook": 1000})),
                **env,
            },
            replicas,
        )

    @property
    def sink(self) -> ProviderSink:
        if self.provider_sink is None:
            raise RuntimeError("no provider sink")
        return self.provider_sink

    async def reset(self) -> None:
        await super().reset()
        self.status_starts = await self.topic_ends(NOTIFICATION_STATUS.name)
        self.consent_starts = await self.topic_ends(MEMBER_CONSENT.name)

    async def add_contacts(self, contacts: Sequence[Contact]) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            await contact_repository.upsert_contacts(conn, contacts)
        finally:
            await conn.close()

    async def wait_finished(self, sends: int, timeout_s: float = 120.0) -> None:
        """At least ``sends`` ledger rows, none pending, input consumed and every outbox row published."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            [row] = await self.fetch(
                """SELECT count(*) AS n, count(*) FILTER (WHERE due_at IS NOT NULL) AS pending,
                          (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished
                   FROM sends"""
            )
            if row["n"] >= sends and not row["pending"] and not row["unpublished"] and not await self.lag():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"notifier did not finish in {timeout_s:.0f}s: {dict(row)}")
            await asyncio.sleep(0.3)

    async def sends(self) -> dict[tuple[str, str], asyncpg.Record]:
        return {(r["offer_id"], r["channel"]): r for r in await self.fetch("SELECT * FROM sends")}

    async def statuses(self) -> list[dict[str, Any]]:
        return await self.read_since(NOTIFICATION_STATUS.name, self.status_starts or {})

    async def consents(self) -> list[dict[str, Any]]:
        return await self.read_since(MEMBER_CONSENT.name, self.consent_starts or {})


@pytest.fixture
def provider_sink() -> Iterator[ProviderSink]:
    with ProviderSink() as sink:
        yield sink


@pytest.fixture
def sink_process(tmp_path: Path) -> Iterator[SinkProcess]:
    """The sink as its own process: arrival times are not skewed by the test process's own work."""
    with SinkProcess(tmp_path / "sink-state.jsonl") as sink:
        yield sink


async def _rig(stack: Stack, log_dir: Path, **sink: Any) -> AsyncIterator[NotifierRig]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap_servers, acks="all")
    await producer.start()
    rig = NotifierRig(stack=stack, log_dir=log_dir, producer=producer, **sink)
    await rig.reset()
    try:
        yield rig
    finally:
        rig.stop()
        await producer.stop()


@pytest.fixture
async def notifier_rig(bootstrapped: Stack, tmp_path: Path, provider_sink: ProviderSink) -> AsyncIterator[NotifierRig]:
    async for rig in _rig(bootstrapped, tmp_path / "logs", provider_sink=provider_sink):
        yield rig


@pytest.fixture
async def timed_rig(bootstrapped: Stack, tmp_path: Path, sink_process: SinkProcess) -> AsyncIterator[NotifierRig]:
    async for rig in _rig(bootstrapped, tmp_path / "logs", sink_url=sink_process.url):
        yield rig


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
