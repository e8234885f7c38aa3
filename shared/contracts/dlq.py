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
    original_topic: str
    original_partition: int
    original_offset: int
    original_key_b64: str | None = None
    original_value_b64: str
    original_headers: dict[str, str] = Field(default_factory=dict)
    failed_at: AwareDatetime
