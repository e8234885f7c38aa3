"""The pipeline benchmark's figures come from the demo's own facts: per service, peak lag, the books."""

from __future__ import annotations

from typing import Any

from bench.pipeline_throughput import figures, table


def facts() -> dict[str, Any]:
    lag = {"ingest": 0, "scoring": 0, "campaigns": 0, "notifier": 0}
    return {
        "run": {"members": 400, "months": 6, "records_published": 3_300},
        "throughput": {
            "samples": [
                {"t_s": 0.0, "lag": lag},
                {"t_s": 1.0, "lag": {**lag, "scoring": 1_200, "campaigns": 40}},
                {"t_s": 2.0, "lag": {**lag, "scoring": 300, "campaigns": 900}},
            ],
            "per_service": {"ingest": {"records": 3_300, "seconds": 2.0, "per_s": 1_650.0}},
        },
        "accounting": {"balanced": True},
    }


def test_peak_lag_is_the_largest_sampled_per_service() -> None:
    result = figures(facts(), wall_s=61.04)
    assert result["peak_lag"] == {"ingest": 0, "scoring": 1_200, "campaigns": 900, "notifier": 0}
    assert result["wall_s"] == 61.0
    assert result["books"] == {"balanced": True}


def test_the_table_has_a_row_per_service_measured() -> None:
    rendered = table(figures(facts(), wall_s=61.0))
    assert "| ingest | 3,300 | 2.0 | 1,650 | 0 |" in rendered
    assert "400 members, 6 months (3,300 upstream records)" in rendered
