"""Every metric the dashboards and Prometheus rules query is one the services define.

Pure: it imports the metrics modules and reads the deployment files; no stack, no Prometheus server.

- The catalog is what prometheus_client's default registry would expose once the metrics modules
  are imported: each family's sample names, or for a family with no samples yet (a labelled metric
  nothing has touched), the names its type gives it (counter -> `_total`, histogram ->
  `_bucket`/`_sum`/`_count`, gauge -> the name itself).
- Every PromQL expression (dashboard targets, dashboard variable queries, recording and alert rules)
  may only name catalog metrics or recording rules the rules files define, and only filter on
  labels those metrics have (plus the scrape target's labels).
- Descriptions, comments and annotations may only mention catalog metrics or families as well.
- With promtool on PATH, every dashboard expression must parse: each is checked as a throwaway
  recording rule. (`make system-deps` installs promtool in CI; the Makefile runs promtool on the
  rule files themselves.)
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCES_FILE = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"

METRICS_MODULES = (
    "shared.observability.metrics",
    "shared.observability.heap",
    "services.ingest.adapters.metrics",
    "services.scoring.adapters.metrics",
    "services.campaigns.adapters.metrics",
    "services.notifier.adapters.metrics",
)

# Sample names a family with no samples yet will have, by type (prometheus_client's exposition).
SAMPLE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",),
}

# Names we check: ours, and prometheus_client's default process/platform collectors.
OWN_PREFIXES = ("memberpulse_", "process_", "python_")
# Labels Prometheus adds to every scraped series besides the ones in static_configs.
SCRAPE_LABELS = {"job", "instance"}
# Grafana's interval variables, replaced by a duration before promtool parses an expression.
GRAFANA_DURATIONS = re.compile(r"\$\{?__(?:rate_interval|interval|range)\b\}?")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"(?<![\w:$.])[A-Za-z_:][\w:]*")
_SELECTOR = re.compile(r"(?<![\w:])([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)\s*(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<expr>.*),\s*(?P<label>\w+)\s*\)\s*$", re.S)


# ---------------------------------------------------------------------------
# The catalog: what the services export
# ---------------------------------------------------------------------------


def _import_metrics_modules() -> list[Any]:
    return [importlib.import_module(name) for name in METRICS_MODULES]


def exported_sample_names() -> set[str]:
    """Every sample name the default registry exposes with the metrics modules imported."""
    _import_metrics_modules()
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.samples:
            names.update(sample.name for sample in family.samples)
        else:
            names.update(family.name + suffix for suffix in SAMPLE_SUFFIXES.get(family.type, ("",)))
    return names


def exported_families() -> set[str]:
    _import_metrics_modules()
    return {family.name for family in REGISTRY.collect()}


def declared_labels() -> dict[str, set[str]]:
    """Sample name -> label names, for the metrics the modules declare (histogram buckets add `le`)."""
    labels: dict[str, set[str]] = {}
    for module in _import_metrics_modules():
        for metric in vars(module).values():
            if not isinstance(metric, MetricWrapperBase):
                continue
            # prometheus_client keeps label names only on the wrapper; no public accessor exists.
            names = set(getattr(metric, "_labelnames", ()))
            for family in metric.describe():
                for suffix in SAMPLE_SUFFIXES.get(family.type, ("",)):
                    labels[family.name + suffix] = names | ({"le"} if suffix == "_bucket" else set())
    return labels


def target_labels() -> set[str]:
    """Labels the scrape adds: job, instance and those of every static_configs entry."""
    found = set(SCRAPE_LABELS)
    for name in ("prometheus.yml", "prometheus.local.yml"):
        config = yaml.safe_load((PROMETHEUS_DIR / name).read_text(encoding="utf-8"))
        for job in config["scrape_configs"]:
            for static in job.get("static_configs") or []:
                found.update(static.get("labels") or {})
    return found


# ---------------------------------------------------------------------------
# What the deployment files query
# ---------------------------------------------------------------------------


def _dashboards() -> dict[str, dict[str, Any]]:
    paths = sorted(DASHBOARDS_DIR.glob("*.json"))
    assert paths, f"no dashboards in {DASHBOARDS_DIR}"
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in paths}


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """All query panels, including those nested in rows; rows themselves do not query."""
    for panel in dashboard.get("panels") or []:
        if panel.get("type") == "row":
            yield from panel.get("panels") or []
        else:
            yield panel


def _variable_query(variable: dict[str, Any]) -> str:
    query = variable.get("query", "")
    return str(query.get("query", "") if isinstance(query, dict) else query)


def dashboard_exprs() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable of every dashboard."""
    found: list[tuple[str, str]] = []
    for name, dashboard in _dashboards().items():
        for panel in _panels(dashboard):
            for target in panel.get("targets") or []:
                found.append((f"{name} / {panel.get('title')!r} / {target.get('refId')}", str(target.get("expr", ""))))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = _variable_query(variable)
                match = _LABEL_VALUES.match(query)
                found.append((f"{name} / variable ${variable['name']}", match["expr"] if match else query))
    return found


def _rules() -> list[tuple[str, dict[str, Any]]]:
    rules: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            rules.extend((path.name, rule) for rule in group["rules"])
    assert rules, f"no rules in {RULES_DIR}"
    return rules


def recording_rules() -> dict[str, str]:
    return {str(rule["record"]): str(rule["expr"]) for _, rule in _rules() if "record" in rule}


def rule_exprs() -> list[tuple[str, str]]:
    return [(f"{path} / {rule.get('record') or rule.get('alert')}", str(rule["expr"])) for path, rule in _rules()]


def all_exprs() -> list[tuple[str, str]]:
    return dashboard_exprs() + rule_exprs()


def referenced_names(expr: str) -> set[str]:
    """Metric and recording-rule names an expression reads (not labels, functions or keywords)."""
    bare = _RANGE.sub(" ", _STRING.sub('""', expr))
    return {token for token in _IDENT.findall(bare) if token.startswith(OWN_PREFIXES) or ":" in token.strip(":")}


def unknown_names(exprs: Iterable[tuple[str, str]], known: set[str]) -> dict[str, list[str]]:
    """Unknown name -> where it is used."""
    unknown: dict[str, list[str]] = {}
    for where, expr in exprs:
        for name in sorted(referenced_names(expr) - known):
            unknown.setdefault(name, []).append(where)
    return unknown


def unknown_labels(
    exprs: Iterable[tuple[str, str]], labels: dict[str, set[str]], recordings: dict[str, str], extra: set[str]
) -> list[str]:
    """Label names that no metric of the expression carries, in selectors and in by/on clauses."""
    problems: list[str] = []
    for where, expr in exprs:
        # A recording's labels are those of the metrics it reads.
        expanded = " ".join([expr, *(rec for name, rec in recordings.items() if name in referenced_names(expr))])
        available = set(extra)
        for name in referenced_names(expanded):
            available |= labels.get(name, set())
        for metric, matchers in _SELECTOR.findall(expr):
            allowed = labels.get(metric, available) | extra
            problems += [
                f"{where}: {metric} has no label {label!r}"
                for label in _MATCHER.findall(matchers)
                if label not in allowed
            ]
        bare = _STRING.sub('""', expr)
        for group in _GROUPING.findall(bare):
            for label in filter(None, (part.strip() for part in group.split(","))):
                if label not in available:
                    problems.append(f"{where}: no metric of the expression has label {label!r}")
    return problems


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_the_catalog_holds_every_service_metric() -> None:
    names = exported_sample_names()
    # One per module and type, so an import that silently registers nothing is noticed.
    for expected in (
        "memberpulse_consumer_records_total",
        "memberpulse_batch_duration_seconds_bucket",
        "memberpulse_consumer_lag_records",
        "memberpulse_ingest_members_created_total",
        "memberpulse_scoring_sweep_batch_duration_seconds_count",
        "memberpulse_scoring_watermark_timestamp_seconds",
        "memberpulse_campaigns_decisions_total",
        "memberpulse_notifier_provider_call_seconds_sum",
        "memberpulse_notifier_sends_due",
    ):
        assert expected in names, expected
    assert not any(name.endswith("_total_total") for name in names)


def test_every_queried_metric_is_defined_in_code() -> None:
    known = exported_sample_names() | set(recording_rules())
    exprs = all_exprs()
    assert len(exprs) > 20
    unknown = unknown_names(exprs, known)
    assert not unknown, "metrics queried but not defined by any metrics module or recording rule:\n" + "\n".join(
        f"  {name}  <- {', '.join(where)}" for name, where in sorted(unknown.items())
    )


def test_the_name_check_can_fail() -> None:
    # Guards the check above: a typo, a suffix on the wrong type and an undefined recording are caught;
    # label values, Grafana variables and ranges are not mistaken for metrics.
    known = exported_sample_names() | set(recording_rules())
    exprs = [
        ("typo", 'sum(rate(memberpulse_notifer_sends_total{channel=~"$channel"}[$__rate_interval]))'),
        ("gauge as counter", "rate(memberpulse_consumer_lag_records_total[5m])"),
        ("recording", "service:memberpulse_consumer_records:rate1h"),
        ("fine", 'sum by (reason) (rate(memberpulse_dlq_records_total{reason="memberpulse_x"}[5m:1m]))'),
    ]
    assert unknown_names(exprs, known) == {
        "memberpulse_notifer_sends_total": ["typo"],
        "memberpulse_consumer_lag_records_total": ["gauge as counter"],
        "service:memberpulse_consumer_records:rate1h": ["recording"],
    }


def test_every_label_filtered_or_grouped_on_exists() -> None:
    problems = unknown_labels(all_exprs(), declared_labels(), recording_rules(), target_labels())
    assert not problems, "\n".join(problems)


def test_the_label_check_can_fail() -> None:
    exprs = [
        ("matcher", 'rate(memberpulse_notifier_sends_total{chanel="sms"}[5m])'),
        ("grouping", "sum by (campaign) (rate(memberpulse_notifier_sends_total[5m]))"),
        ("fine", 'sum by (channel, service) (rate(memberpulse_notifier_sends_total{status="sent", job="x"}[5m]))'),
    ]
    problems = unknown_labels(exprs, declared_labels(), recording_rules(), target_labels())
    assert problems == [
        "matcher: memberpulse_notifier_sends_total has no label 'chanel'",
        "grouping: no metric of the expression has label 'campaign'",
    ]


def test_descriptions_and_comments_only_mention_defined_metrics() -> None:
    # The whole text, descriptions, annotations and comments included: what an operator reads must exist too.
    known = exported_sample_names() | exported_families() | set(recording_rules())
    mention = re.compile(r"(?<![\w:])[A-Za-z_:]*memberpulse_[\w:]*")
    unknown: dict[str, set[str]] = {}
    for path in [*sorted(DASHBOARDS_DIR.glob("*.json")), *sorted(RULES_DIR.glob("*.yml"))]:
        for name in mention.findall(path.read_text(encoding="utf-8")):
            name = name.rstrip(":_")
            if name not in known:
                unknown.setdefault(name, set()).add(path.name)
    assert not unknown, f"mentioned but not defined: {unknown}"


def test_every_dashboard_is_provisioned_importable_json() -> None:
    provisioned_uid = yaml.safe_load(DATASOURCES_FILE.read_text(encoding="utf-8"))["datasources"][0]["uid"]
    uids = []
    for name, dashboard in _dashboards().items():
        uids.append(dashboard["uid"])
        assert dashboard["title"].startswith("MemberPulse / "), name
        assert 36 <= dashboard["schemaVersion"] <= 41, name
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", name
        assert variables["datasource"]["current"]["value"] == provisioned_uid, name
        panels = list(_panels(dashboard))
        assert panels, name
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), f"{name}: panel ids must be unique"
        for panel in panels:
            title = f"{name} / {panel.get('title')!r}"
            assert str(panel.get("description", "")).strip(), f"{title} has no description"
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, title
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, title
            assert panel.get("targets"), f"{title} has no targets"
            for target in panel["targets"]:
                expr = str(target.get("expr", "")).strip()
                assert expr, f"{title} has a target without expr"
                for var in re.findall(r"\$\{?(\w+)", expr):
                    assert var.startswith("__") or var in variables, f"{title}: unknown variable ${var}"
    assert len(uids) == len(set(uids)), f"dashboard uids must be unique: {uids}"


def test_every_alert_runbook_points_at_an_existing_section() -> None:
    for _, rule in _rules():
        if "alert" not in rule:
            continue
        path, _, anchor = str(rule["annotations"]["runbook"]).partition("#")
        runbook = ROOT / path
        assert runbook.is_file(), f"{rule['alert']}: {path} does not exist"
        headings = re.findall(r"^#+\s+(.+?)\s*$", runbook.read_text(encoding="utf-8"), re.M)
        slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
        assert anchor in slugs, f"{rule['alert']}: no section #{anchor} in {path}"


def _as_promql(expr: str) -> str:
    """A dashboard expression with Grafana's variables replaced, as Prometheus would receive it."""
    expr = GRAFANA_DURATIONS.sub("5m", expr)
    return re.sub(r"\$\{\w+\}|\$\w+", ".*", expr)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not on PATH (make system-deps installs it)")
def test_every_dashboard_expression_parses(tmp_path: Path) -> None:
    exprs = dashboard_exprs()
    rules = [{"record": f"dashboard:expr_{i}:parse", "expr": _as_promql(expr)} for i, (_, expr) in enumerate(exprs)]
    rules_file = tmp_path / "dashboards.rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    promtool = shutil.which("promtool")
    assert promtool is not None
    result = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        index = {f"expr_{i}": where for i, (where, _) in enumerate(exprs)}
        located = re.sub(
            r"expr_\d+", lambda m: f"{m.group(0)} ({index.get(m.group(0), '?')})", result.stdout + result.stderr
        )
        pytest.fail(f"promtool rejects a dashboard expression:\n{located}")
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout
