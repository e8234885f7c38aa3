"""scoring's own settings (``MP_SCORING_*``), beside the shared Kafka/Postgres/HTTP ones."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, TypeAdapter
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.scoring.domain.complaints import DEFAULT_TERMS, lexicon, terms_from_text
from services.scoring.domain.policy import Policy
from services.scoring.domain.rules import ScoringRules
from services.scoring.service_layer.sweeper import SweepSettings


def _refuse_unknown_rules(overrides: dict[str, dict[str, Any]]) -> None:
    """A misspelt rule must fail loudly at start, not be silently ignored."""
    sections = {f.name: f.type for f in fields(ScoringRules)}
    defaults = ScoringRules()
    for section, values in overrides.items():
        if section not in sections:
            raise ValueError(f"unknown rules section {section!r}; expected one of {sorted(sections)}")
        known = {f.name for f in fields(getattr(defaults, section))}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown {section} rules {unknown}; expected some of {sorted(known)}")


class ScoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_SCORING_", extra="ignore")

    # Rule overrides as JSON, by section: {"engagement": {"silent_after_days": 45}, "lifecycle": {...}}.
    # docs/scoring.md lists every field and its default.
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # A file of extra complaint terms, one per line, added to the built-in multilingual list.
    complaint_terms_file: Path | None = None
    # Events up to this late still count on time; the sweeper's watermark trails by this much.
    allowed_lateness_seconds: float = Field(default=300.0, ge=0)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    sweep_batch_size: int = Field(default=1_000, ge=1)
    # Let the wall clock advance the watermark once the input has been quiet (live operation).
    # Off for replays of history far in the past, where only the events should move time.
    live_clock: bool = True
    quiet_after_seconds: float = Field(default=5.0, gt=0)
    policy_reload_seconds: float = Field(default=30.0, gt=0)
    # Progress marks on member.state.v1 wait for the sweeper: a mark never passes a review not made
    # yet. Campaigns then sees timed transitions (silent, at_risk, dormant) in event-time order, and
    # decides the same in every run, but about the allowed lateness later (docs/scoring.md).
    marks_await_reviews: bool = False
    # RFM cut points are recomputed this often from all buyers; 0 turns the schedule off.
    rfm_refresh_seconds: float = Field(default=3_600.0, ge=0)

    def scoring_rules(self) -> ScoringRules:
        _refuse_unknown_rules(self.rules)
        return TypeAdapter(ScoringRules).validate_python(self.rules)

    def policy(self) -> Policy:
        terms = list(DEFAULT_TERMS)
        if self.complaint_terms_file is not None:
            terms += terms_from_text(self.complaint_terms_file.read_text(encoding="utf-8"))
        return Policy(rules=self.scoring_rules(), complaints=lexicon(terms))

    def sweep(self) -> SweepSettings:
        return SweepSettings(
            allowed_lateness=timedelta(seconds=self.allowed_lateness_seconds),
            batch_size=self.sweep_batch_size,
            interval_s=self.sweep_interval_seconds,
            live_clock=self.live_clock,
            quiet_after_s=self.quiet_after_seconds,
            marks_await_reviews=self.marks_await_reviews,
        )
