"""Two consumers creating one member row at once: the later one must not overwrite the earlier.

The chaos suite found it: with two replicas, a merge on the survivor's partition leaves a pointer
row under the merged id while that id's own partition, on the other replica, applies its first
purchase. Both found the row missing; the later upsert wiped the purchase.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from services.scoring.adapters import member_repository
from services.scoring.domain.events import tombstone
from services.scoring.domain.member import evolve, new_member

T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def two_connections(bootstrapped: Any) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection, str]]:
    dsn = bootstrapped.pg.dsn_for("scoring")
    one, two = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    member_id = f"m_race_{uuid.uuid4().hex[:12]}"
    try:
        yield one, two, member_id
    finally:
        await one.execute("DELETE FROM members WHERE member_id = $1", member_id)
        await one.close()
        await two.close()


async def test_a_member_created_by_another_transaction_meanwhile_is_reported_not_overwritten(two_connections):
    one, two, member_id = two_connections
    pointer = tombstone(new_member(member_id, T), "m_survivor")
    sale = evolve(new_member(member_id, T), sales=1, sales_minor=12_680)

    first = one.transaction()
    await first.start()
    assert await member_repository.save(one, [sale], created={member_id}) == set()
    second = two.transaction()
    await second.start()
    # The second insert waits on the first's uncommitted row, then finds it taken.
    racing = asyncio.create_task(member_repository.save(two, [pointer], created={member_id}))
    await asyncio.sleep(0.3)
    assert not racing.done(), "the second creator waits for the first to commit or roll back"
    await first.commit()
    assert await racing == {member_id}
    await second.rollback()

    row = await one.fetchrow("SELECT sales, sales_minor, merged_into FROM members WHERE member_id = $1", member_id)
    assert (row["sales"], row["sales_minor"], row["merged_into"]) == (1, 12_680, None)


async def test_a_loaded_member_is_updated_in_place(two_connections):
    one, _, member_id = two_connections
    assert await member_repository.save(one, [new_member(member_id, T)], created={member_id}) == set()
    async with one.transaction():
        [loaded] = (await member_repository.load(one, {member_id})).values()
        assert await member_repository.save(one, [evolve(loaded, sales=2, sales_minor=500)]) == set()
    row = await one.fetchrow("SELECT sales, sales_minor FROM members WHERE member_id = $1", member_id)
    assert (row["sales"], row["sales_minor"]) == (2, 500)
