"""Shared fixtures. Integration and e2e tests get a real broker and database (see tests/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.stack.__main__ import bootstrap
from tests.stack import Stack, real_stack


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    with real_stack() as found:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        line = f"real stack: {found.origin}: {found.kafka_version}; {found.postgres_version}"
        if reporter is not None:
            reporter.write_line(line)
        print(line)
        yield found


@pytest.fixture(scope="session")
async def bootstrapped(stack: Stack) -> Stack:
    """The stack with every role, schema, migration and topic in place (idempotent)."""
    await bootstrap(stack.pg, stack.kafka, quiet=True)
    return stack


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
