"""Static checks of the deployment files: no Docker engine, Prometheus or Grafana needed.

- docker-compose.yml against the vendored Compose Specification schema (deploy/compose/compose-spec.json),
  plus the cross-references the schema cannot see (dependencies, ports, roles, mounts);
- the Prometheus configs and rules (structure only; promtool runs from the Makefile);
- the Grafana provisioning and the pipeline-health dashboard.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "deploy" / "compose" / "compose-spec.json"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD_FILE = GRAFANA_DIR / "dashboards" / "pipeline-health.json"

APP_SERVICES = {"ingest": 8081, "scoring": 8082, "campaigns": 8083, "notifier": 8084}
INFRA_SERVICES = {"kafka", "postgres", "bootstrap", "prometheus", "grafana"}


def _load_yaml(path: Path) -> Any:
    # safe_load resolves anchors and `<<` merge keys, as Compose does.
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _compose() -> dict[str, Any]:
    doc = _load_yaml(COMPOSE_FILE)
    assert isinstance(doc, dict)
    return doc


def _schema_errors(doc: Any) -> list[str]:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _interpolate(value: str) -> str:
    """Compose interpolation with an empty environment: `${VAR:-default}` gives its default."""
    unresolved = re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)
    assert "${" not in unresolved, f"no default for {value!r}"
    return unresolved


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    assert test, "no healthcheck test"
    return test if isinstance(test, str) else " ".join(map(str, test))


def _bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host path (relative, as written) of the short-syntax bind mounts."""
    mounts: dict[str, str] = {}
    for vol in service.get("volumes") or []:
        if isinstance(vol, str) and vol.startswith((".", "/")):
            host, target = vol.split(":")[:2]
            mounts[target] = host
    return mounts


# ---------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    errors = _schema_errors(_compose())
    assert errors == []


def test_compose_schema_check_catches_mistakes() -> None:
    # Guards the check above: a schema that accepts anything would make it pass vacuously.
    broken = copy.deepcopy(_compose())
    broken["services"]["ingest"]["depends_on"]["bootstrap"]["condition"] = "service_finished"
    broken["services"]["kafka"]["healthcheck"]["intervall"] = "10s"
    errors = _schema_errors(broken)
    assert any("services/ingest/depends_on" in e for e in errors), errors
    assert any("services/kafka/healthcheck" in e for e in errors), errors


def test_compose_defines_every_service() -> None:
    services = set(_compose()["services"])
    missing = (set(APP_SERVICES) | INFRA_SERVICES) - services
    assert not missing, f"missing services: {sorted(missing)}"


def test_every_dependency_exists_and_named_volumes_are_declared() -> None:
    compose = _compose()
    services = compose["services"]
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        for dep in _depends_on(service):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for vol in service.get("volumes") or []:
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if source and not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"


def test_app_services_share_one_definition_and_image() -> None:
    compose = _compose()
    assert "x-service" in compose, "the four services should be built from the x-service extension field"
    services = compose["services"]
    images = set()
    for name in [*APP_SERVICES, "bootstrap"]:
        service = services[name]
        images.add(service["image"])
        build = service["build"]
        assert build["context"] == "."
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    assert len(images) == 1, f"bootstrap and the services should run one image, got {images}"


def test_app_services_run_their_module_with_their_own_role_and_port() -> None:
    services = _compose()["services"]
    bootstrap_env = _env(services["bootstrap"])
    for name, port in APP_SERVICES.items():
        service = services[name]
        assert service["command"] == ["python", "-m", f"services.{name}"]
        env = _env(service)
        assert env["MP_PG_USER"] == name
        assert _interpolate(env["MP_PG_PASSWORD"]) == f"{name}-dev-password"
        # bootstrap creates the role with MP_PG_PASSWORD_<SERVICE>: the same expression, or they drift
        assert env["MP_PG_PASSWORD"] == bootstrap_env[f"MP_PG_PASSWORD_{name.upper()}"]
        assert env["MP_PG_HOST"] == "postgres"
        assert env["MP_PG_PORT"] == "5432"
        assert env["MP_PG_DATABASE"] == "memberpulse"
        assert env["MP_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["MP_HTTP_HOST"] == "0.0.0.0"
        assert env["MP_HTTP_PORT"] == str(port)
        assert "MP_PG_ADMIN_PASSWORD" not in env, f"{name} must not get the admin credentials"
        assert f"127.0.0.1:{port}:{port}" in service.get("ports", [])
        assert _depends_on(service) == {"bootstrap": "service_completed_successfully"}
        assert "/readyz" in _healthcheck_text(service)


def test_bootstrap_runs_once_after_kafka_and_postgres_are_healthy() -> None:
    bootstrap = _compose()["services"]["bootstrap"]
    assert bootstrap["command"] == ["python", "-m", "shared.stack", "bootstrap"]
    assert bootstrap["restart"] == "no"
    assert _depends_on(bootstrap) == {"kafka": "service_healthy", "postgres": "service_healthy"}
    env = _env(bootstrap)
    postgres_env = _env(_compose()["services"]["postgres"])
    assert env["MP_PG_ADMIN_USER"] == postgres_env["POSTGRES_USER"]
    assert env["MP_PG_ADMIN_PASSWORD"] == postgres_env["POSTGRES_PASSWORD"]
    assert _interpolate(env["MP_PG_ADMIN_USER"]) == "postgres"
    assert _interpolate(env["MP_PG_ADMIN_PASSWORD"]) == "memberpulse-admin"
    assert _interpolate(postgres_env["POSTGRES_DB"]) == _interpolate(env["MP_PG_DATABASE"]) == "memberpulse"
    assert env["MP_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_kafka_is_a_single_kraft_node_with_replication_one() -> None:
    kafka = _compose()["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"]), kafka["image"]
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
        "KAFKA_DEFAULT_REPLICATION_FACTOR",
        "KAFKA_MIN_INSYNC_REPLICAS",
    ):
        assert env.get(key) == "1", f"{key} should be 1 on a single node"
    # every replication factor / min ISR that is set at all must be 1
    for key, value in env.items():
        if key.endswith(("_REPLICATION_FACTOR", "_MIN_ISR")):
            assert value == "1", key
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    health = _healthcheck_text(kafka)
    assert "kafka-broker-api-versions.sh" in health or "kafka-topics.sh" in health
    assert "--bootstrap-server" in health


def test_postgres_has_a_query_healthcheck_and_a_named_volume() -> None:
    compose = _compose()
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    health = _healthcheck_text(postgres)
    assert "pg_isready" in health
    assert "psql" in health
    data_volumes = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert data_volumes, "postgres data directory should be on a named volume"
    assert data_volumes[0].split(":")[0] in (compose.get("volumes") or {})


def test_prometheus_and_grafana_mount_the_repo_config() -> None:
    services = _compose()["services"]
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus")
    assert _bind_mounts(prometheus)["/etc/prometheus"] == "./deploy/prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]

    grafana = services["grafana"]
    assert grafana["image"].startswith("grafana/grafana")
    mounts = _bind_mounts(grafana)
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    dashboards_target = next(t for t, h in mounts.items() if h == "./deploy/grafana/dashboards")
    provider = _load_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "memberpulse.yml")
    assert [p["options"]["path"] for p in provider["providers"]] == [dashboards_target]
    for host in mounts.values():
        assert (ROOT / host).is_dir(), f"bind-mounted {host} does not exist"


def test_dockerfile_builds_with_uv_and_runs_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M) or re.search(
        r"^FROM python:3\.11-slim", text, re.M
    )
    assert "pip install uv==0.13.9" in text
    assert "uv sync --frozen --no-dev" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", ".stack"} <= set(ignored)


# ---------------------------------------------------------------------------
# Prometheus
# ---------------------------------------------------------------------------


def _memberpulse_targets(config_file: Path) -> dict[str, str]:
    """target -> service label of the memberpulse scrape job."""
    config = _load_yaml(config_file)
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "memberpulse"]
    return {target: static["labels"]["service"] for static in job["static_configs"] for target in static["targets"]}


def test_prometheus_configs_scrape_the_four_services() -> None:
    compose = _memberpulse_targets(PROMETHEUS_DIR / "prometheus.yml")
    local = _memberpulse_targets(PROMETHEUS_DIR / "prometheus.local.yml")
    assert compose == {f"{name}:{port}": name for name, port in APP_SERVICES.items()}
    assert local == {f"127.0.0.1:{port}": name for name, port in APP_SERVICES.items()}


def test_prometheus_configs_load_the_rules_directory() -> None:
    for name in ("prometheus.yml", "prometheus.local.yml"):
        config = _load_yaml(PROMETHEUS_DIR / name)
        assert config["rule_files"] == ["rules/*.yml"], name
        # resolved relative to the config file, as Prometheus and promtool do
        assert list(PROMETHEUS_DIR.glob("rules/*.yml")), name


def _rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in _load_yaml(path)["groups"]:
            rules.extend(group["rules"])
    assert rules
    return rules


def _uses_metric(expr: str, metric: str) -> bool:
    # a whole metric name, not a part of a longer name or of a `level:metric:op` recording name
    return re.search(rf"(?<![\w:]){re.escape(metric)}(?![\w:])", expr) is not None


def _expanded(expr: str, recordings: dict[str, str]) -> str:
    """The expression with the recording rules it uses appended (one level is all we define)."""
    used = [rec_expr for name, rec_expr in recordings.items() if _uses_metric(expr, name)]
    return " ".join([expr, *used])


def test_every_alert_has_runbook_and_description() -> None:
    alerts = [r for r in _rules() if "alert" in r]
    assert alerts
    for rule in alerts:
        annotations = rule.get("annotations") or {}
        assert str(annotations.get("runbook", "")).strip(), f"{rule['alert']} has no runbook annotation"
        assert str(annotations.get("description", "")).strip(), f"{rule['alert']} has no description"
        assert (rule.get("labels") or {}).get("severity") in {"warning", "critical"}, rule["alert"]


def test_alerts_cover_down_lag_dlq_and_outbox_age() -> None:
    rules = _rules()
    recordings = {r["record"]: str(r["expr"]) for r in rules if "record" in r}
    assert recordings, "expected at least one recording rule"
    alert_exprs = [_expanded(str(r["expr"]), recordings) for r in rules if "alert" in r]
    for metric in (
        "up",
        "memberpulse_consumer_lag_records",
        "memberpulse_dlq_records_total",
        "memberpulse_outbox_oldest_unpublished_age_seconds",
    ):
        assert any(_uses_metric(e, metric) for e in alert_exprs), f"no alert on {metric}"


# ---------------------------------------------------------------------------
# Grafana
# ---------------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    doc = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """All query panels, including those nested in collapsed rows; rows themselves do not query."""
    panels: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            panels.extend(panel.get("panels") or [])
        else:
            panels.append(panel)
    return panels


def test_grafana_datasource_points_at_compose_prometheus() -> None:
    provisioning = _load_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")
    (datasource,) = provisioning["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert datasource["uid"]


def test_dashboard_is_importable_json() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"]
    assert dashboard["title"]
    assert 36 <= dashboard["schemaVersion"] <= 41
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid)
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_dashboard_panel_has_a_datasource_and_a_query() -> None:
    dashboard = _dashboard()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    provisioned_uid = _load_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")["datasources"][0][
        "uid"
    ]
    panels = _panels(dashboard)
    assert panels
    for panel in panels:
        title = panel.get("title", panel.get("id"))
        datasource = panel.get("datasource")
        assert isinstance(datasource, dict), f"panel {title!r} has no datasource"
        assert datasource.get("type") == "prometheus", title
        uid = datasource.get("uid", "")
        if uid.startswith("$"):
            var = variables[uid.strip("${}")]
            assert var["type"] == "datasource"
            assert var["current"]["value"] == provisioned_uid
        else:
            assert uid == provisioned_uid, title
        targets = panel.get("targets") or []
        assert targets, f"panel {title!r} has no targets"
        for target in targets:
            expr = str(target.get("expr", "")).strip()
            assert expr, f"panel {title!r} has a target without expr"
            for var in re.findall(r"\$\{?(\w+)", expr):
                assert var.startswith("__") or var in variables, f"{title!r}: unknown variable ${var}"


def test_dashboard_covers_the_pipeline_metrics() -> None:
    exprs = [str(t["expr"]) for p in _panels(_dashboard()) for t in p["targets"]]
    for metric in (
        "memberpulse_consumer_records_total",
        "memberpulse_consumer_lag_records",
        "memberpulse_batch_duration_seconds_bucket",
        "memberpulse_dlq_records_total",
        "memberpulse_outbox_backlog_rows",
        "memberpulse_outbox_oldest_unpublished_age_seconds",
    ):
        assert any(_uses_metric(e, metric) for e in exprs), f"no panel queries {metric}"
    assert any("histogram_quantile(0.99" in e for e in exprs), "no p99 latency panel"
