"""Settings: defaults for the local stack, overridden by ``MP_*`` environment variables."""

from __future__ import annotations

import os

import pytest

from shared.settings import (
    DEFAULT_HTTP_PORTS,
    HttpSettings,
    KafkaSettings,
    PostgresSettings,
    Settings,
    dev_password,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults are only defaults when the developer's shell sets no MP_ variable."""
    for name in list(os.environ):
        if name.upper().startswith("MP_"):
            monkeypatch.delenv(name)


def test_kafka_defaults_to_the_local_stack() -> None:
    settings = KafkaSettings()

    assert settings.bootstrap_servers == "127.0.0.1:39092"
    assert settings.max_batch_records == 500


def test_postgres_defaults_to_the_local_stack() -> None:
    settings = PostgresSettings()

    assert (settings.host, settings.port, settings.database) == ("127.0.0.1", 55432, "memberpulse")


def test_a_service_connects_with_its_own_role_and_dev_password_by_default() -> None:
    assert PostgresSettings().dsn_for("scoring") == (
        "postgresql://scoring:scoring-dev-password@127.0.0.1:55432/memberpulse"
    )
    assert dev_password("notifier") == "notifier-dev-password"


def test_an_explicit_password_wins_over_the_configured_and_dev_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MP_PG_PASSWORD", "from-env")

    assert PostgresSettings().dsn_for("ingest", password="explicit").startswith("postgresql://ingest:explicit@")
    assert PostgresSettings().dsn_for("ingest").startswith("postgresql://ingest:from-env@")


def test_the_admin_dsn_uses_the_admin_role() -> None:
    assert (
        PostgresSettings().admin_dsn("postgres") == "postgresql://postgres:memberpulse-admin@127.0.0.1:55432/postgres"
    )


def test_environment_variables_override_the_postgres_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MP_PG_PORT", "6543")
    monkeypatch.setenv("MP_PG_HOST", "db.internal")
    monkeypatch.setenv("MP_PG_USER", "app")

    settings = PostgresSettings()

    assert settings.port == 6543
    assert settings.dsn_for("scoring") == "postgresql://app:scoring-dev-password@db.internal:6543/memberpulse"


def test_environment_variables_override_the_kafka_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MP_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("MP_KAFKA_MAX_BATCH_RECORDS", "50")

    settings = KafkaSettings()

    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.max_batch_records == 50


def test_the_process_settings_pick_up_the_same_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MP_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("MP_PG_PORT", "5432")
    monkeypatch.setenv("MP_LOG_LEVEL", "DEBUG")

    settings = Settings()

    assert settings.kafka.bootstrap_servers == "kafka:9092"
    assert settings.pg.port == 5432
    assert settings.log_level == "DEBUG"


def test_an_invalid_override_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MP_KAFKA_MAX_BATCH_RECORDS", "0")

    with pytest.raises(ValueError, match="max_batch_records"):
        KafkaSettings()


@pytest.mark.parametrize(
    ("service", "port"), [("ingest", 8081), ("scoring", 8082), ("campaigns", 8083), ("notifier", 8084)]
)
def test_each_service_has_its_own_default_http_port(service: str, port: int) -> None:
    assert HttpSettings().port_for(service) == port


def test_the_default_http_ports_are_distinct() -> None:
    assert len(set(DEFAULT_HTTP_PORTS.values())) == len(DEFAULT_HTTP_PORTS)


def test_an_http_port_from_the_environment_applies_to_any_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MP_HTTP_PORT", "9000")

    assert HttpSettings().port_for("ingest") == 9000
    assert HttpSettings().port_for("notifier") == 9000
