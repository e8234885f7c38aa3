"""The benchmark harness's pure parts: ratios to ceilings, costs relative to the smallest, the Markdown, the readers."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from bench.harness.model import Ceiling, Run, ScalePoint, ServiceResult, as_json, ratio, relative_to_smallest
from bench.harness.pipeline import ServiceUsage, pipeline_results
from bench.harness.scale_load import due_stride, is_due, sample_not_due
from bench.harness.services import consumer_result, ingest_result, notifier_result, sink_ceiling
from bench.harness.subbench import results_path
from bench.harness.table import members, render
from tools.services import REPO_ROOT


def point(count: int, apply_us: float | None, claim_ms: float, sweep_ms: float) -> ScalePoint:
    return ScalePoint(count, 1.0, 5_000, apply_us, 2_000, claim_ms, 2_000, sweep_ms)


def a_run() -> Run:
    run = Run(started_at="20260101T000000Z", options={"mode": "quick"})
    run.ceilings = [
        Ceiling("kafka_consume", "Kafka: bare consume", 40_000.0, "records/s", 100_000, 2.5),
        Ceiling("kafka_consume_produce", "Kafka: consume → produce", 10_000.0, "records/s", 100_000, 10.0),
    ]
    run.services = [
        ServiceResult(
            "ingest", 2_500.0, "events/s", "kafka_consume_produce", 2_000.0, 12.0, 95.0, 0.8, 150.0, 12_500.0
        ),
        ServiceResult("scoring", 8_000.0, "events/s", "kafka_consume"),
        ServiceResult("notifier", None, "sends/s", "http_sink", note="no figures, exit 2"),
    ]
    run.scale = [point(20_000, 200.0, 20.0, 150.0), point(1_000_000, 210.0, 21.0, 180.0)]
    return run


def test_ratio_is_none_without_a_positive_base() -> None:
    assert ratio(5.0, 10.0) == 0.5
    assert ratio(None, 10.0) is None
    assert ratio(5.0, None) is None
    assert ratio(5.0, 0.0) is None


def test_each_service_is_divided_by_its_own_ceiling() -> None:
    services = {s["name"]: s for s in as_json(a_run())["services"]}
    assert services["ingest"]["ratio_to_ceiling"] == pytest.approx(0.25)  # 2,500 / consume → produce 10,000
    assert services["ingest"]["ratio_to_own_baseline"] == pytest.approx(0.2)
    assert services["scoring"]["ratio_to_ceiling"] == pytest.approx(0.2)  # 8,000 / consume 40,000
    assert services["notifier"]["ratio_to_ceiling"] is None  # no sink ceiling measured, no throughput


def test_scale_costs_are_relative_to_the_smallest_member_count_whatever_the_order() -> None:
    points = [point(1_000_000, 300.0, 30.0, 90.0), point(10_000, 150.0, 10.0, 90.0)]
    assert relative_to_smallest(points, "apply_us_per_event") == [2.0, 1.0]
    assert relative_to_smallest(points, "claim_ms") == [3.0, 1.0]
    assert relative_to_smallest([point(10_000, None, 1.0, 1.0)], "apply_us_per_event") == [None]
    scale = as_json(a_run())["scale"]
    assert scale[1]["apply_us_per_event_vs_smallest"] == pytest.approx(1.05)


def test_the_markdown_shows_figures_ratios_and_n_a_for_what_is_missing() -> None:
    table = render(a_run())
    assert "| Kafka: bare consume | 40,000 records/s | 100,000 in 2.50 s |" in table
    ingest = (
        "| ingest | 2,500 events/s | 0.250 (kafka_consume_produce) | 0.200 | 12 / 95 ms at 2,000/s | 0.800 | 150 MiB |"
    )
    assert ingest in table
    assert "| notifier (no figures, exit 2) | n/a sends/s | n/a (http_sink) | n/a | n/a | n/a | n/a |" in table
    assert "| 1M | 1.0 s | 210 | 1.050 | 21.0 | 1.050 | 180 | 1.200 |" in table


def test_member_counts_are_written_short() -> None:
    assert [members(n) for n in (20_000, 1_000_000, 10_000_000, 1_500)] == ["20k", "1M", "10M", "1,500"]


def test_due_rows_are_spread_evenly_and_never_sampled_for_events() -> None:
    stride = due_stride(1_000, 11_000, 100)
    due = [n for n in range(1_000, 11_000) if is_due(n, 1_000, stride, 100)]
    assert len(due) == 100
    assert due[:2] == [1_000, 1_100]
    picked = sample_not_due(1_000, 11_000, 100, 5_000, random.Random(1))
    assert len(set(picked)) == 5_000
    assert not set(picked) & set(due)
    assert all(1_000 <= n < 11_000 for n in picked)
    with pytest.raises(ValueError, match="not due"):
        sample_not_due(0, 200, 100, 150, random.Random(1))


def test_the_benches_json_files_are_found_on_their_last_results_line() -> None:
    assert results_path("table\nresults: /tmp/a.json\n") == Path("/tmp/a.json")
    assert results_path("written: out/bench/pipeline-x.json") == REPO_ROOT / "out/bench/pipeline-x.json"
    assert results_path("no file named here") is None


def window(cpu_s: float, rss: float) -> dict[str, Any]:
    return {"cpu_s": cpu_s, "rss_peak_mib": rss}


def test_service_benches_json_is_read_into_results() -> None:
    ingest = ingest_result(
        {
            "throughput": {"output_rate": 3_000.0, "events": 10_000, "process": window(4.0, 120.0), "lost": 0},
            "latency": {"offered_rate": 2_000.0, "p50_ms": 9.0, "p99_ms": 40.0, "process": window(1.0, 130.0)},
            "baseline": {"rate": 9_000.0},
        }
    )
    assert (ingest.throughput, ingest.cpu_s_per_1000, ingest.peak_rss_mib, ingest.lost) == (3_000.0, 0.4, 130.0, 0)
    scoring = consumer_result(
        "scoring",
        "events",
        {"throughput": {"rate_steady": 7_000.0, "cpu_s_per_1000_events": 0.12, "lost": 2}, "baseline": {"rate": 1.0}},
    )
    assert (scoring.unit, scoring.cpu_s_per_1000, scoring.lost, scoring.p99_ms) == ("events/s", 0.12, 2, None)
    ceiling = {"concurrency": 100, "calls": 20_000, "sink_rate": 4e3}
    notifier = {"throughput": {"sends_per_s": 900.0}, "ceiling": ceiling}
    assert notifier_result(notifier).ceiling == "http_sink"
    sink = sink_ceiling(notifier)
    assert sink is not None
    assert sink.rate == 4e3


def test_the_pipeline_rate_is_upstream_records_over_the_time_from_first_in_to_at_rest() -> None:
    figures = {
        "run": {"records_published": 10_000},
        "pipeline_s": 12.5,
        "per_service": {
            "ingest": {"records": 10_000, "seconds": 5.0, "per_s": 2_000.0},
            "scoring": {"records": 9_000, "seconds": 9.0, "per_s": 1_000.0},
            "campaigns": {"records": 4_000, "seconds": 2.0, "per_s": 2_000.0},
            "notifier": {"records": 0, "seconds": 0.0, "per_s": 0.0},
        },
    }
    whole, *stages = pipeline_results(figures, ServiceUsage())
    assert whole.throughput == 800.0
    assert whole.cpu_s_per_1000 is None  # no process was sampled
    assert [s.name for s in stages] == [f"pipeline: {n}" for n in ("ingest", "scoring", "campaigns", "notifier")]
    assert stages[3].throughput is None
