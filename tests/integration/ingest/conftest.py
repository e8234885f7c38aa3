"""The ingest service as a real process on the test stack, and a watcher over what it publishes."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.kafka.admin import describe_partitions
from tests.stack import Stack
from tools.services import RunningService, start_services, stop_services
from tools.upstream import UpstreamRecord

PORT_OFFSET = 2000
WEBHOOK_SECRET = "pos-and-app-webhook-secret"
WECHAT_ACCOUNT, WECHAT_TOKEN = "gh_test", "wechat-callback-token"
OUTPUTS = (
    "member.chat.v1",
    "member.community.v1",
    "member.purchase.v1",
    "member.merged.v1",
    "notification.receipt.v1",
    "ingest.dlq.v1",
)


def ingest_env(stack: Stack) -> dict[str, str]:
    return {
        **stack.env(),
        "MP_INGEST_WEBHOOK_SECRETS": json.dumps(
            dict.fromkeys(("chat_json", "pos_receipt", "ecom_order"), WEBHOOK_SECRET)
        ),
        "MP_INGEST_WECHAT_TOKENS": json.dumps({WECHAT_ACCOUNT: WECHAT_TOKEN}),
    }


@pytest.fixture(scope="module")
def ingest_service(bootstrapped: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    [service] = start_services(
        tmp_path_factory.mktemp("ingest"), env=ingest_env(bootstrapped), port_offset=PORT_OFFSET, names=("ingest",)
    )
    yield service
    assert stop_services([service]) == {"ingest": 0}, "SIGTERM must stop ingest cleanly"


@dataclass
class Outputs:
    """Everything ingest published since the watcher started, decoded."""

    consumer: AIOKafkaConsumer
    records: list[tuple[str, dict[str, Any], dict[str, bytes]]] = field(default_factory=list)

    async def until(self, predicate: Callable[[Outputs], bool], timeout_s: float = 60.0, what: str = "outputs") -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; saw {len(self.records)} records")
            await self._poll()

    async def settle(self, seconds: float = 3.0) -> None:
        """Keep collecting for a while: to prove something did NOT happen (a duplicate, a stray letter)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            await self._poll()

    async def _poll(self) -> None:
        for batch in (await self.consumer.getmany(timeout_ms=300)).values():
            for record in batch:
                self.records.append((record.topic, json.loads(record.value), dict(record.headers or ())))

    def events(self, topic: str, run: str) -> list[dict[str, Any]]:
        return [body for t, body, _ in self.records if t == topic and run in json.dumps(body, ensure_ascii=False)]

    def letters(self, run: str) -> list[dict[str, Any]]:
        return [
            body
            for t, body, _ in self.records
            if t == "ingest.dlq.v1"
            and (run in base64.b64decode(body["original_value_b64"]).decode("utf-8", "replace") or run in str(body))
        ]

    def event_ids(self, topic: str, run: str) -> list[str]:
        return [
            headers["ce_id"].decode()
            for t, body, headers in self.records
            if t == topic and run in json.dumps(body, ensure_ascii=False)
        ]


@pytest.fixture
async def outputs(bootstrapped: Stack) -> AsyncIterator[Outputs]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrapped.kafka.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="latest",
    )
    await consumer.start()
    counts = await describe_partitions(bootstrapped.kafka.bootstrap_servers, OUTPUTS)
    # Pin every partition's position to the current end before anything is produced.
    consumer.assign([TopicPartition(topic, p) for topic, count in counts.items() for p in range(count)])
    for tp, end in (await consumer.end_offsets(list(consumer.assignment()))).items():
        consumer.seek(tp, end)
    yield Outputs(consumer)
    await consumer.stop()


@pytest.fixture
async def upstream(bootstrapped: Stack) -> AsyncIterator[Callable[..., Any]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrapped.kafka.bootstrap_servers, enable_idempotence=True)
    await producer.start()

    async def publish(*records: UpstreamRecord | tuple[str, bytes]) -> None:
        for record in records:
            if isinstance(record, UpstreamRecord):
                await producer.send_and_wait(record.topic, record.body, headers=record.headers)
            else:
                fmt, body = record
                topic = "raw.purchase.v1" if fmt in ("pos_receipt", "ecom_order", "purchases_csv") else "raw.chat.v1"
                await producer.send_and_wait(topic, body, headers=[("mp-source-format", fmt.encode())])

    yield publish
    await producer.stop()
