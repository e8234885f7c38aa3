"""The chaos suite, reduced: a generated chain through two replicas of each service while they, the
broker and the database are killed, paused and crashed; then the hostile-input scenario.

Run as an operator runs it (``python -m tools.chaos run --reduced``). Every check is the suite's
own (``tools/chaos/verdict.py``, against the oracle in ``tools/oracle``); this test asserts that the
run passed them all and that the faults it promises really struck. ``make chaos`` runs the full
version: about 250,000 records and 24 kills.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tools.chaos.__main__ import RESULTS
from tools.demo.processes import stop_all
from tools.services import REPO_ROOT


@pytest.fixture
def local_stack_env(bootstrapped: Any) -> Iterator[dict[str, str]]:
    if not bootstrapped.origin.startswith("local stack"):
        pytest.skip("the chaos suite restarts the broker and the database with deploy/local/stack.sh")
    RESULTS.unlink(missing_ok=True)
    yield {**os.environ, **bootstrapped.env(), "COLUMNS": "160"}
    stop_all()


@pytest.mark.timeout(2400)
def test_nothing_is_lost_doubled_or_sent_twice_through_kills_pauses_and_crashes(
    local_stack_env: dict[str, str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.chaos", "run", "--reduced"],
        cwd=REPO_ROOT,
        env=local_stack_env,
        capture_output=True,
        text=True,
        timeout=2300,
        check=False,
    )
    assert RESULTS.exists(), done.stdout[-4000:] + done.stderr[-4000:]
    outcomes = {o["scenario"]: o for o in json.loads(RESULTS.read_text())}
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]

    chaos = outcomes["chaos"]
    assert chaos["passed"]
    assert len(chaos["findings"]) >= 15
    faults = chaos["faults"]
    assert faults["kill"] >= 8
    assert all(faults[f"kill:{s}"] >= 2 for s in ("ingest", "scoring", "campaigns", "notifier"))
    assert faults["pause"] >= 1
    assert faults["kafka_restart"] >= 1
    assert faults["kafka_kill"] >= 1
    assert faults["postgres_crash"] >= 1
    assert chaos["figures"]["offers"] > 0
    assert chaos["figures"]["messages_at_sinks"] > 0, "offers reached the sinks through the kills"

    calm, storm = outcomes["calm"], outcomes["storm"]
    assert calm["passed"]
    assert storm["passed"]
    assert storm["figures"]["bad_records"] >= 1_000, "thousands of hostile records"
    assert storm["figures"]["bad_share_of_all"] >= 0.19
    assert storm["unplanned_exits"] == []
