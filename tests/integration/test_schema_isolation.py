"""Each service's database role can touch only its own schema."""

from __future__ import annotations

import asyncpg
import pytest

from shared.settings import SERVICE_NAMES


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_a_service_role_cannot_read_or_write_another_services_schema(bootstrapped, service):
    conn = await asyncpg.connect(bootstrapped.pg.dsn_for(service))
    try:
        assert await conn.fetchval("SELECT count(*) FROM inbox") >= 0  # its own schema is on its search path
        for other in SERVICE_NAMES:
            if other == service:
                continue
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval(f"SELECT count(*) FROM {other}.inbox")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"CREATE TABLE {other}.intruder (x int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (x int)")
    finally:
        await conn.close()
