"""Kill ingest with SIGKILL again and again mid-stream: every event still comes out exactly once."""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from shared.settings import DEFAULT_HTTP_PORTS
from tests.integration.ingest.conftest import PORT_OFFSET, ingest_env
from tools import upstream as make
from tools.services import spawn_service, stop_services, wait_ready

pytestmark = pytest.mark.integration

KILLS = 5
RECORDS = 3000


async def test_sigkilled_repeatedly_ingest_publishes_each_event_once_and_each_rejection_once(
    bootstrapped, outputs, upstream, tmp_path
):
    run = uuid.uuid4().hex[:10]
    good = list(make.realistic_mix(run, RECORDS, 400, start=datetime.now(UTC) - timedelta(days=2)))
    bad = make.bad_records(run)
    stream: list[make.UpstreamRecord | tuple[str, bytes]] = list(good)
    for n, (fmt, body, _) in enumerate(bad):
        stream.insert((n + 1) * len(good) // (len(bad) + 1), (fmt, body))
    env = ingest_env(bootstrapped)
    port = DEFAULT_HTTP_PORTS["ingest"] + PORT_OFFSET + 100

    async def feed() -> None:
        for start in range(0, len(stream), 100):
            await upstream(*stream[start : start + 100])
            await asyncio.sleep(0.15)

    feeding = asyncio.create_task(feed())
    rng = random.Random(run)
    kills = 0
    while kills < KILLS:
        service = spawn_service("ingest", tmp_path, env, port)
        await asyncio.to_thread(wait_ready, [service], 90.0)
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        service.process.send_signal(signal.SIGKILL)
        assert service.process.wait(timeout=10) == -signal.SIGKILL
        kills += 1
    await feeding
    survivor = spawn_service("ingest", tmp_path, env, port)
    try:
        await asyncio.to_thread(wait_ready, [survivor], 90.0)
        await outputs.until(
            lambda o: sum(len(o.event_ids(t, run)) for t in _TOPICS) >= len(good) and len(o.letters(run)) >= len(bad),
            timeout_s=240,
            what="every event and every letter",
        )
        await outputs.settle(5.0)
    finally:
        codes = stop_services([survivor])
    assert codes == {"ingest": 0}

    ids = [event_id for topic in _TOPICS for event_id in outputs.event_ids(topic, run)]
    duplicates = {event_id: n for event_id, n in Counter(ids).items() if n > 1}
    assert duplicates == {}, f"{len(duplicates)} events were published more than once"
    assert len(ids) == len(good), "every accepted event was published"
    origins = Counter(
        (letter["original_topic"], letter["original_partition"], letter["original_offset"])
        for letter in outputs.letters(run)
    )
    assert max(origins.values()) == 1, "no rejected record was dead-lettered twice"
    assert sorted(letter["error_code"] for letter in outputs.letters(run)) == sorted(code for _, _, code in bad)


_TOPICS = ("member.chat.v1", "member.community.v1", "member.purchase.v1")
