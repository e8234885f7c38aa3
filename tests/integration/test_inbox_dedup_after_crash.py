"""Inbox dedup: a consumer SIGKILLed after its DB commit and before its offset commit applies nothing twice."""

from __future__ import annotations

import signal

from tests.integration.conftest import wait_for
from tests.integration.plumbing import group_caught_up, seeded_topic


async def test_batch_redelivered_after_sigkill_is_applied_once(bootstrapped, plumbing_db, spawn):
    seeded = await seeded_topic(bootstrapped.kafka, "crash", 200)
    topic, group, dlq, ids = seeded.topic, seeded.group, seeded.dlq, seeded.ids

    small_batches = {"MP_KAFKA_MAX_BATCH_RECORDS": "50"}
    doomed = spawn(
        "tests.integration.procs.consumer_proc", topic, group, dlq, "--die-after-db-commit", env=small_batches
    )
    assert doomed.wait(timeout=60) == -signal.SIGKILL
    applied_before_crash = await plumbing_db.fetchval("SELECT count(*) FROM applied WHERE topic = $1", topic)
    assert 0 < applied_before_crash <= 50, "exactly the first batch committed to the DB before the kill"
    assert not await group_caught_up(bootstrapped.kafka, group, topic), "its offsets were never committed"

    survivor = spawn("tests.integration.procs.consumer_proc", topic, group, dlq, env=small_batches)

    async def all_applied() -> bool:
        return await plumbing_db.fetchval("SELECT count(*) FROM applied WHERE topic = $1", topic) == len(ids)

    await wait_for(all_applied, what="every record applied after restart")
    await wait_for(lambda: group_caught_up(bootstrapped.kafka, group, topic), what="the survivor committed everything")
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=30) == 0
    twice = await plumbing_db.fetch("SELECT event_id FROM applied WHERE topic = $1 AND times_applied > 1", topic)
    assert twice == [], f"{len(twice)} events applied more than once"
    # The redelivered batch was seen and skipped by the inbox, not re-published either.
    assert await plumbing_db.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", f"{topic}.out") == len(ids)
