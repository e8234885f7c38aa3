"""Phase 3's instruments: a connection that counts its statements, a one-connection pool, a fake Kafka record."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# Each of these is one round trip to Postgres (executemany pipelines its rows in one exchange).
COUNTED = frozenset(("execute", "executemany", "fetch", "fetchrow", "fetchval", "copy_records_to_table"))


class CountingConnection:
    """Wraps an asyncpg connection; every statement call is counted and timed, by the function that made it."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._conn, name)
        if name not in COUNTED:
            return attr
        return self._counted(attr)

    def _counted(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1)  # the repository function that issued the statement
            module = str(caller.f_globals.get("__name__", "?")).rsplit(".", 1)[-1]
            name = f"{module}.{caller.f_code.co_name}"
            self.calls[name] += 1
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return counted


class SinglePool:
    """What CampaignHolder needs of a pool, on one connection (so it reads the uncommitted set-up)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        yield self.conn


@dataclass
class FakeRecord:
    """The parts of a ConsumerRecord the handler reads (``shared.kafka.records.RawRecord``)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Any = ()
