"""Shared fixtures. Integration and e2e tests get a real broker and database (see tests/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.stack.__main__ import bootstrap
from tests.stack import Stack, real_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with real_stack() as found:
        _STACKS_USED.append(f"{found.origin}: {found.kafka_version}; {found.postgres_version}")
        yield found


@pytest.fixture(scope="session")
async def bootstrapped(stack: Stack) -> Stack:
    """The stack with every role, schema, migration and topic in place (idempotent)."""
    await bootstrap(stack.pg, stack.kafka, quiet=True)
    return stack


_STACKS_USED: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which real broker and database the run used, with their versions."""
    for line in _STACKS_USED:
        terminalreporter.write_line(f"real stack used: {line}")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
