"""notifier's own settings (``MP_NOTIFIER_*``): the chain's providers, limits, templates and secrets.

Providers are nested settings, e.g. ``MP_NOTIFIER_SMS__URL=https://gw.example/send`` or the whole
block as JSON in ``MP_NOTIFIER_SMS``. A channel without a provider is not configured: offers that
only allow it are suppressed with ``channel_not_configured``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifier.adapters.providers.base import (
    AnyProviderSettings,
    SmsGatewaySettings,
    SmtpSettings,
    WebhookSettings,
    WeChatSettings,
)
from services.notifier.domain.retry import RetryPolicy
from services.notifier.service_layer.dispatcher import DispatchSettings
from shared.contracts import Channel


class RateLimit(BaseModel):
    """A provider's token bucket: sustained sends per second and the burst allowed after a quiet spell."""

    per_second: float = Field(gt=0)
    burst: float = Field(default=1.0, ge=1)

    def bucket_capacity(self, headroom_s: float) -> float:
        """The burst the bucket may grant: the provider's, less what calls bunch up on the way there.

        Calls reach the provider a few ms after their tokens, and not all equally late (event-loop
        and network jitter), so a provider can see up to ``per_second × headroom`` more than the
        bucket granted in a stretch. Keeping that back keeps the provider's view within ``burst``.
        """
        return max(1.0, self.burst - self.per_second * headroom_s)


# Conservative defaults a chain raises to what its contracts allow.
DEFAULT_RATE_LIMITS = {
    "sms": RateLimit(per_second=100, burst=20),
    "wechat": RateLimit(per_second=200, burst=40),
    "email": RateLimit(per_second=50, burst=10),
    "webhook": RateLimit(per_second=500, burst=100),
}


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_NOTIFIER_", env_nested_delimiter="__", extra="ignore")

    sms: SmsGatewaySettings | None = None
    wechat: WeChatSettings | None = None
    email: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    rate_limits: dict[str, RateLimit] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # How far apart, at most, calls granted together may reach the provider: see RateLimit.bucket_capacity.
    rate_headroom_seconds: float = Field(default=0.03, ge=0)
    # The chain's own templates, searched before the built-in ones (same layout).
    templates_dir: Path | None = None
    default_locale: str = "zh-CN"
    # Phone numbers without a country code (CRM exports, gateway callbacks) are read in this region.
    default_phone_region: str = "CN"
    # Signs unsubscribe links; marketing cannot be sent on email without it (no way out, no message).
    unsubscribe_secret: SecretStr | None = None
    # Signs the SMS gateway's inbound replies and delivery receipts (X-MemberPulse-Signature).
    inbound_secret: SecretStr | None = None
    inbound_window_seconds: int = Field(default=300, ge=1)
    # Where members reach the unsubscribe link: the notifier's public address.
    public_base_url: str = "http://127.0.0.1:8084"
    claim_batch: int = Field(default=200, ge=1)
    max_in_flight: int = Field(default=256, ge=1)
    lease_seconds: float = Field(default=60.0, gt=0)
    poll_interval_seconds: float = Field(default=0.05, gt=0)
    retry_max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=1.0, ge=0)
    retry_cap_seconds: float = Field(default=300.0, ge=0)

    def providers(self) -> dict[Channel, AnyProviderSettings]:
        chosen: dict[Channel, AnyProviderSettings | None] = {
            Channel.SMS: self.sms,
            Channel.WECHAT: self.wechat,
            Channel.EMAIL: self.email,
            Channel.WEBHOOK: self.webhook,
        }
        return {channel: config for channel, config in chosen.items() if config is not None}

    def rate_limit(self, provider: str) -> RateLimit:
        return self.rate_limits.get(provider) or DEFAULT_RATE_LIMITS.get(provider) or RateLimit(per_second=100)

    def dispatch(self) -> DispatchSettings:
        return DispatchSettings(
            claim_batch=self.claim_batch,
            max_in_flight=self.max_in_flight,
            lease_s=self.lease_seconds,
            poll_interval_s=self.poll_interval_seconds,
            retry=RetryPolicy(
                max_attempts=self.retry_max_attempts, base_s=self.retry_base_seconds, cap_s=self.retry_cap_seconds
            ),
            unsubscribe_secret=self.unsubscribe_secret.get_secret_value().encode() if self.unsubscribe_secret else b"",
            public_base_url=self.public_base_url,
        )
