"""campaigns' own settings (``MP_CAMPAIGNS_*``), beside the shared Kafka/Postgres/HTTP ones."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.campaigns.domain.affinity import DEFAULT_PAIRS, AffinityRules
from services.campaigns.domain.caps import FrequencyCap
from services.campaigns.domain.decide import Guards
from services.campaigns.domain.quiet_hours import QuietHours
from services.campaigns.service_layer.deciding import DecidingSettings

DEFAULTS_DIR = Path(__file__).resolve().parents[1] / "defaults"


class CampaignsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_CAMPAIGNS_", extra="ignore")

    # Definitions loaded (created or versioned) at start; empty to load none.
    definitions_dir: Path | None = DEFAULTS_DIR
    # The zone of members whose home store is unknown, and the zone a budget's day counts in.
    default_timezone: str = "Asia/Shanghai"
    business_timezone: str = "Asia/Shanghai"
    quiet_hours_start: time = time(21, 30)
    quiet_hours_end: time = time(9, 0)
    # Marketing: at least this far apart, and at most this many per window, per member and channel.
    cap_min_gap_hours: float = Field(default=48.0, ge=0)
    cap_max_per_window: int = Field(default=2, ge=1)
    cap_window_days: float = Field(default=7.0, gt=0)
    global_holdout_pct: float = Field(default=0.0, ge=0, le=100)
    # Whether a member who never stated consent for a channel may get marketing on it.
    consent_by_default: bool = True
    affinity_window_days: int = Field(default=90, ge=1)
    affinity_min_baskets: int = Field(default=200, ge=1)
    affinity_min_pair_baskets: int = Field(default=10, ge=1)
    affinity_min_confidence: float = Field(default=0.05, ge=0, le=1)
    affinity_min_lift: float = Field(default=1.2, ge=0)
    cross_sell_pairs: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_PAIRS))
    # Event time: triggers up to this late still count; timers fire this far behind the stream.
    allowed_lateness_seconds: float = Field(default=60.0, ge=0)
    # Let the wall clock move time on when input is quiet (live); off for replays of the past.
    live_clock: bool = True
    quiet_after_seconds: float = Field(default=5.0, gt=0)
    due_interval_seconds: float = Field(default=1.0, gt=0)
    due_batch_size: int = Field(default=500, ge=1)
    refresh_seconds: float = Field(default=5.0, gt=0)

    @field_validator("default_timezone", "business_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        ZoneInfo(name)  # raises for an unknown zone, at start
        return name

    def guards(self) -> Guards:
        return Guards(
            cap=FrequencyCap(self.cap_min_gap_hours, self.cap_max_per_window, self.cap_window_days),
            quiet=QuietHours(self.quiet_hours_start, self.quiet_hours_end),
            global_holdout_pct=self.global_holdout_pct,
            consent_by_default=self.consent_by_default,
            business_zone=ZoneInfo(self.business_timezone),
        )

    def deciding(self) -> DecidingSettings:
        return DecidingSettings(
            guards=self.guards(),
            default_zone=ZoneInfo(self.default_timezone),
            affinity=AffinityRules(
                min_baskets=self.affinity_min_baskets,
                min_pair_baskets=self.affinity_min_pair_baskets,
                min_confidence=self.affinity_min_confidence,
                min_lift=self.affinity_min_lift,
            ),
            affinity_window_days=self.affinity_window_days,
            fallback_pairs={k: tuple(v) for k, v in self.cross_sell_pairs.items()},
            allowed_lateness_seconds=self.allowed_lateness_seconds,
            due_batch_size=self.due_batch_size,
        )
