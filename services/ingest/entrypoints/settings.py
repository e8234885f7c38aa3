"""ingest's own settings (``MP_INGEST_*``), beside the shared Kafka/Postgres/HTTP ones."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.ingest.adapters.raw_records import ParserSettings
from services.ingest.service_layer.handlers import IngestPolicy


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_INGEST_", extra="ignore")

    # Keyed hash salt for identifiers. Production sets a secret; changing it re-keys every member.
    pii_salt: SecretStr = SecretStr("memberpulse-local-dev-salt")
    # Phone numbers without a country code are read in this region (ISO 3166 alpha-2).
    default_phone_region: str = "CN"
    # POS receipts from stores missing in the registry are read in this zone (and flagged).
    default_timezone: str = "Asia/Shanghai"
    # Per-source HMAC secrets for POST /v1/events/{source}, as JSON: {"pos_receipt": "..."}.
    # A source without a secret is not served: the API is closed by default.
    webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # Per-account tokens for the WeChat callback /v1/wechat/{account}, as JSON.
    wechat_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    replay_window_seconds: int = Field(default=300, ge=10, le=3600)
    max_body_bytes: int = Field(default=5_000_000, ge=1_000)
    max_events_per_request: int = Field(default=1_000, ge=1)

    def parser(self) -> ParserSettings:
        return ParserSettings(salt=self.pii_salt.get_secret_value().encode(), default_region=self.default_phone_region)

    def policy(self) -> IngestPolicy:
        return IngestPolicy(default_timezone=self.default_timezone)
