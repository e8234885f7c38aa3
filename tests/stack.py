"""Finds the real Kafka broker and PostgreSQL server the tests run against.

In order: testcontainers when a Docker engine answers; else the embedded stack of `make up`;
else endpoints named by MP_TEST_KAFKA_BOOTSTRAP / MP_TEST_PG_* environment variables.
Never an in-memory broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.settings import KafkaSettings, PostgresSettings
from shared.stack.readiness import kafka_version, postgres_version

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_IMAGE = "apache/kafka:4.3.1"
POSTGRES_IMAGE = "postgres:16"


@dataclass(frozen=True)
class Stack:
    origin: str
    kafka: KafkaSettings
    pg: PostgresSettings
    kafka_version: str
    postgres_version: str

    def env(self) -> dict[str, str]:
        """Environment for service subprocesses pointing at this stack."""
        return {
            "MP_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "MP_PG_HOST": self.pg.host,
            "MP_PG_PORT": str(self.pg.port),
            "MP_PG_DATABASE": self.pg.database,
            "MP_PG_ADMIN_USER": self.pg.admin_user,
            "MP_PG_ADMIN_PASSWORD": self.pg.admin_password.get_secret_value(),
        }


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _answers(kafka: KafkaSettings, pg: PostgresSettings) -> tuple[str, str] | None:
    async def probe() -> tuple[str, str]:
        return await kafka_version(kafka.bootstrap_servers, 3), await postgres_version(pg.admin_dsn("postgres"), 3)

    try:
        return asyncio.run(probe())
    except Exception:
        return None


def _local_kafka_version() -> str:
    jars = sorted((REPO_ROOT / ".stack" / "kafka" / "lib").glob("kafka_2.13-*.jar"))
    return f"Apache Kafka {jars[-1].stem.removeprefix('kafka_2.13-')}" if jars else "Apache Kafka (version unknown)"


@contextlib.contextmanager
def real_stack() -> Iterator[Stack]:
    if _docker_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka_c, PostgresContainer(POSTGRES_IMAGE) as pg_c:
            kafka = KafkaSettings(bootstrap_servers=kafka_c.get_bootstrap_server())
            pg = PostgresSettings(
                host=pg_c.get_container_host_ip(),
                port=int(pg_c.get_exposed_port(5432)),
                admin_user=pg_c.username,
                admin_password=pg_c.password,
            )
            versions = _answers(kafka, pg)
            assert versions, "testcontainers started but Kafka/Postgres do not answer"
            yield Stack("testcontainers", kafka, pg, f"Apache Kafka ({KAFKA_IMAGE})", versions[1])
            return
    kafka, pg = KafkaSettings(), PostgresSettings()
    if (REPO_ROOT / ".stack").is_dir() and (versions := _answers(kafka, pg)):
        yield Stack("local stack (make up)", kafka, pg, _local_kafka_version(), versions[1])
        return
    if os.environ.get("MP_TEST_KAFKA_BOOTSTRAP"):
        kafka = KafkaSettings(bootstrap_servers=os.environ["MP_TEST_KAFKA_BOOTSTRAP"])
        pg = PostgresSettings(
            host=os.environ.get("MP_TEST_PG_HOST", "127.0.0.1"),
            port=int(os.environ.get("MP_TEST_PG_PORT", "5432")),
            admin_user=os.environ.get("MP_TEST_PG_ADMIN_USER", "postgres"),
            admin_password=os.environ.get("MP_TEST_PG_ADMIN_PASSWORD", ""),
        )
        if versions := _answers(kafka, pg):
            yield Stack("environment endpoints", kafka, pg, "Apache Kafka (external)", versions[1])
            return
    raise RuntimeError(
        "No real Kafka and Postgres: no Docker engine, `make up` stack not answering, "
        "and MP_TEST_KAFKA_BOOTSTRAP not set. Run `make up` first."
    )
