"""What ops teams see is true: a real Prometheus scrapes the four running services while events flow."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.stack import REPO_ROOT
from tests.unit.test_observability_catalog import all_exprs, recording_rules, referenced_names
from tools.demo.smoke import chat_events, publish
from tools.services import RunningService, start_services, stop_services

PORT_OFFSET = 1200
DEPLOY = REPO_ROOT / "deploy"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _referenced() -> set[str]:
    """Every metric the shipped dashboards and rules read (the rules' own recordings aside), found the
    way the unit catalog test finds them."""
    recordings = set(recording_rules())
    return {name for _, expr in all_exprs() for name in referenced_names(expr) if name not in recordings}


def _exposed(text: str) -> set[str]:
    """Names in an exposition: every ``# TYPE`` family (present even before a labelled metric has a
    sample; prometheus_client names counters with their ``_total``) and every sample name."""
    families = set(re.findall(r"^# TYPE (\S+)", text, flags=re.MULTILINE))
    samples = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, flags=re.MULTILINE))
    return families | samples


def _is_exposed(name: str, exposed: set[str]) -> bool:
    # A histogram with no sample yet shows only its family name, not its _bucket/_sum/_count series.
    return name in exposed or any(name.endswith(s) and name.removesuffix(s) in exposed for s in HISTOGRAM_SUFFIXES)


def _start_prometheus(tmp: Path, services: list[RunningService]) -> tuple[subprocess.Popen[bytes], str]:
    rules = tmp / "rules"
    shutil.copytree(DEPLOY / "prometheus" / "rules", rules)
    targets = [{"targets": [f"127.0.0.1:{s.port}"], "labels": {"service": s.name}} for s in services]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules / "*.yml")],
        "scrape_configs": [
            {"job_name": "memberpulse", "honor_labels": True, "static_configs": targets},
        ],
    }
    (tmp / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=(tmp / "prometheus.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


async def _query(client: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    answer = (await client.get("/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def _eventually(client: httpx.AsyncClient, expr: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = await _query(client, expr)
        except httpx.TransportError:  # Prometheus still starting
            result = []
        if result:
            return result
        if time.monotonic() > deadline:
            targets = (await client.get("/api/v1/targets")).json()["data"]["activeTargets"]
            health = {t["labels"].get("service"): (t["health"], t["lastError"]) for t in targets}
            raise AssertionError(f"{expr!r} returned nothing within {timeout_s:.0f}s; targets: {health}")
        await asyncio.sleep(1.0)


async def test_prometheus_sees_throughput_lag_and_tiers_move_and_every_referenced_metric_exists(
    bootstrapped: Any, tmp_path: Path
) -> None:
    services = start_services(tmp_path / "logs", env=bootstrapped.env(), port_offset=PORT_OFFSET)
    prometheus, url = _start_prometheus(tmp_path, services)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5.0) as client:
            up = await _eventually(client, 'count(up{job="memberpulse"} == 1) == 4')
            assert up

            # A counter's series appears with its first increment, so throughput is shown moving
            # between two batches rather than by increase() over a series Prometheus only just met.
            consumed = 'sum(memberpulse_consumer_records_total{service="ingest",outcome="applied"})'
            await publish(bootstrapped.kafka, chat_events(uuid.uuid4().hex[:8], 4))
            first = float((await _eventually(client, consumed))[0]["value"][1])
            await publish(bootstrapped.kafka, chat_events(uuid.uuid4().hex[:8], 4))
            moved = await _eventually(client, f"{consumed} > {first}")
            assert float(moved[0]["value"][1]) > first
            lag = await _eventually(client, "memberpulse_consumer_lag_records")
            assert {series["metric"].get("service") for series in lag} >= {"ingest", "scoring"}
            tiers = await _eventually(client, "sum(memberpulse_scoring_members) > 0", timeout_s=90.0)
            assert float(tiers[0]["value"][1]) >= 8
            statuses = await _eventually(client, "sum(memberpulse_notifier_offers_total) > 0", timeout_s=90.0)
            assert float(statuses[0]["value"][1]) >= 1

        exposed: dict[str, str] = {}
        async with httpx.AsyncClient(timeout=5.0) as plain:
            for service in services:
                text = (await plain.get(f"{service.base_url}/metrics")).text
                exposed[service.name] = text
                lint = subprocess.run(
                    ["promtool", "check", "metrics"], input=text.encode(), capture_output=True, check=False
                )
                assert lint.returncode == 0, f"{service.name}: {lint.stdout.decode()}{lint.stderr.decode()}"
        names = set().union(*(_exposed(text) for text in exposed.values()))
        missing = sorted(name for name in _referenced() if not _is_exposed(name, names))
        assert not missing, f"dashboards or rules reference metrics no running service exposes: {missing}"
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=10)
        codes = stop_services(services)
    assert set(codes.values()) == {0}
