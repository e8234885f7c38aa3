"""``make demo`` end to end, small: a generated chain through the four services, twice with one seed.

The demo is run as a newcomer runs it (``python -m tools.demo run``), on the real stack, and
must balance its books: every issued offer has one outcome in the notifier, every planted bad
record is dead-lettered with the reason planted, and the same seed gives the same verdicts on every
upstream record, the same member states and the same campaign decisions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tools.demo.processes import stop_all
from tools.services import REPO_ROOT

OUT = REPO_ROOT / "out"
# Small enough for the test suite, large enough for every campaign kind and channel to show up.
# History ends today (the default), so the last week's offers are still valid when the notifier sees them.
ARGS = ["--members", "400", "--months", "6", "--seed", "11"]


def _demo(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "tools.demo", "run", *ARGS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    facts = json.loads((OUT / "facts.json").read_text()) if (OUT / "facts.json").exists() else {}
    return done, facts


@pytest.fixture
def demo_env(bootstrapped: Any) -> Iterator[dict[str, str]]:
    (OUT / "facts.json").unlink(missing_ok=True)
    yield {**os.environ, **bootstrapped.env(), "COLUMNS": "160"}
    stop_all()  # the demo leaves its services running; the suite must not


@pytest.mark.timeout(1800)
def test_the_demo_balances_its_books_and_a_seed_gives_the_same_run_twice(demo_env: dict[str, str]) -> None:
    first, facts = _demo(demo_env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]

    books = facts["accounting"]
    assert books["offers_issued"] > 0
    assert books["offers_issued"] == (
        books["notifier_sent"] + books["notifier_failed"] + books["notifier_suppressed"] + books["notifier_pending"]
    )
    assert books["notifier_sent"] > 0, "the last week's offers reach the provider sinks"
    assert books["dlq_planted"] > 0
    assert books["dlq_seen"] == books["dlq_planted"]
    assert all(row["count"] == row["planted"] for row in facts["dlq"]), facts["dlq"]
    channels = {row["channel"] for row in facts["delivery"] if row["status"] in ("sent", "delivered")}
    assert {"sms", "email"} <= channels, facts["delivery"]
    assert facts["members_now"]["engagement"], "scoring placed members in tiers"
    assert {"welcome", "win_back"} <= {row["campaign"] for row in facts["offers_by_kind"]}
    report = (OUT / "report.html").read_text()
    assert report.count("<svg") >= 10
    assert "not measured in this run" not in report.split("Endpoints")[0]

    second, again = _demo(demo_env)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    # What ingest makes of the generated records is exact: same records in, same verdicts out.
    assert again["ingest_counters"] == facts["ingest_counters"]
    assert again["dlq"] == facts["dlq"]
    # Downstream, every service reads in event-time order, and campaigns waits for scoring's
    # progress marks, which wait for its reviews (docs/demo.md, "Same seed, same run?"): scoring's
    # figures and campaigns' decisions are exact.
    for view in ("members_now", "lifecycle_flows", "tiers_over_time", "churn_warnings_over_time"):
        assert again[view] == facts[view], view
    for view in ("offers_by_kind", "uplift"):
        assert again[view] == facts[view], view
    assert _decided(again) == _decided(facts)


def _decided(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Campaigns' suppressions by reason (the notifier's depend on the wall clock: an offer expires in real time)."""
    return [row for row in facts["suppressions"] if row["stage"] == "campaigns"]
