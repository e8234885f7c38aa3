"""Base classes every event contract builds on."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Contract(BaseModel):
    """An immutable, strict event payload.

    ``event_type`` is the CloudEvents ``type``; ``version`` bumps on any breaking change and
    then ships as a new class (``...V2``) on a new topic, so old consumers keep working.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    event_type: ClassVar[str]
    version: ClassVar[int] = 1


class MemberEvent(Contract):
    """An event about one member: ``member_id`` is the Kafka key and the CloudEvents subject."""

    member_id: str = Field(min_length=1, max_length=128, description="Pseudonymous member id (never raw PII)")
    occurred_at: AwareDatetime = Field(description="Event time, UTC")

    @property
    def event_time(self) -> datetime:
        return self.occurred_at


class Money(BaseModel):
    """Exact money: integer minor units plus an ISO 4217 currency code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: int
    currency: str = Field(pattern=r"^[A-Z]{3}$")
