"""Dead letters: input a service rejected, kept with its raw bytes and the reason."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class DeadLetterV1(BaseModel):
    """A rejected record. Nothing is lost: the raw bytes are kept (base64) for replay."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = "memberpulse.deadletter.v1"
    version: ClassVar[int] = 1

    service: str
    error_code: str = Field(description="Stable machine-readable reason, e.g. invalid_json, schema_violation")
    error_message: str = Field(max_length=4000)
    source: str | None = Field(default=None, description="Upstream source format, when known")
    original_topic: str = Field(description="Topic the record came from, or the HTTP route it was posted to")
    original_partition: int | None = None
    original_offset: int | None = None
    origin_request_id: str | None = Field(default=None, description="HTTP request id, for records posted to an API")
    original_key_b64: str | None = None
    original_value_b64: str
    original_headers: dict[str, str] = Field(default_factory=dict)
    failed_at: AwareDatetime
