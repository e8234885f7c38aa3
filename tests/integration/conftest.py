from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import pytest

from tests.integration.plumbing import provision
from tests.stack import REPO_ROOT, Stack


@pytest.fixture(scope="session")
async def plumbing_dsn(bootstrapped: Stack) -> str:
    return await provision(bootstrapped.pg)


@pytest.fixture
async def plumbing_db(plumbing_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(plumbing_dsn)
    yield conn
    await conn.close()


@pytest.fixture
def spawn(bootstrapped: Stack) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a Python module of this repo as a subprocess pointed at the test stack; kills leftovers."""
    procs: list[subprocess.Popen[str]] = []

    def start(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=REPO_ROOT,
            env={**os.environ, **bootstrapped.env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def wait_for(predicate: Callable[[], object], timeout_s: float = 60.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
