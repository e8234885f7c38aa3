"""Settings from environment variables (prefix ``MP_``), with defaults for the local stack.

The defaults point at the embedded stack that ``make up`` starts on 127.0.0.1, so a
developer needs no configuration; Compose and production override them by environment.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES = ("ingest", "scoring", "campaigns", "notifier")
DEFAULT_HTTP_PORTS = {"ingest": 8081, "scoring": 8082, "campaigns": 8083, "notifier": 8084}


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:39092"
    client_id_prefix: str = "memberpulse"
    # Records fetched per poll; one Postgres transaction is made per batch.
    max_batch_records: int = Field(default=500, ge=1)
    poll_timeout_ms: int = Field(default=200, ge=1)
    # Event-time-ordered consumers: how long a partition read to its end still holds newer records
    # back after its last delivery, for records its producer is still writing (Kafka Streams'
    # max.task.idle.ms). 0 adds no latency; a replay at high speed needs it to stay repeatable.
    max_idle_ms: int = Field(default=0, ge=0)
    # A producer (or one origin of it) whose progress marks stop for this long stops holding its
    # partitions back (alignment.py). It should outlast a replica's restart or its partitions'
    # move to another replica (about the session timeout), or records overtake the dead one's.
    mark_idle_ms: int = Field(default=30_000, ge=100)
    # A consumer just started waits this long at most for the first mark of a partition whose topic
    # is marked (TopicSpec.progress_marked) before reading it as unmarked. 0: never wait (for a
    # topic fed by hand, as in tests that publish canonical events themselves).
    first_mark_wait_ms: int = Field(default=30_000, ge=0)
    # Consumers that write progress marks write them at most this often (and after the last batch).
    progress_mark_interval_ms: int = Field(default=250, ge=1)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    max_poll_interval_ms: int = Field(default=300_000, ge=1000)


class PostgresSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_PG_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 55432
    database: str = "memberpulse"
    # Empty means "the service's own role": user = service name, password = "<service>-dev-password".
    user: str = ""
    password: SecretStr = SecretStr("")
    admin_user: str = "postgres"
    admin_password: SecretStr = SecretStr("memberpulse-admin")
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=5, ge=1)

    def dsn_for(self, service: str, password: str | None = None) -> str:
        """The DSN a service connects with: its own role, which can touch only its own schema."""
        user = self.user or service
        password = password or self.password.get_secret_value() or dev_password(service)
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{self.database}"

    def admin_dsn(self, database: str | None = None) -> str:
        return (
            f"postgresql://{self.admin_user}:{self.admin_password.get_secret_value()}"
            f"@{self.host}:{self.port}/{database or self.database}"
        )


def dev_password(service: str) -> str:
    """Password of a service role on the local stack; production sets MP_PG_PASSWORD."""
    return f"{service}-dev-password"


class HttpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_HTTP_", extra="ignore")

    host: str = "127.0.0.1"
    # 0 means the service's default port from DEFAULT_HTTP_PORTS.
    port: int = 0
    # Bearer token of the management APIs (member lookups, campaign edits). Unset, they answer
    # 503: closed by default, never open.
    management_token: SecretStr | None = None

    def port_for(self, service: str) -> int:
        return self.port or DEFAULT_HTTP_PORTS[service]


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_OUTBOX_", extra="ignore")

    batch_size: int = Field(default=500, ge=1)
    idle_poll_seconds: float = Field(default=0.05, gt=0)
    # Published rows are kept this long for inspection, then purged.
    keep_published_seconds: float = Field(default=3600.0, ge=0)
    # Inbox ids must outlive any redelivery: the longest input topic retention (400 days) plus margin.
    inbox_retention_days: int = Field(default=420, ge=1)


class Settings(BaseSettings):
    """Everything a service process needs, read once at start-up."""

    model_config = SettingsConfigDict(env_prefix="MP_", extra="ignore")

    log_level: str = "INFO"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    pg: PostgresSettings = Field(default_factory=PostgresSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    outbox: RelaySettings = Field(default_factory=RelaySettings)
