"""Channel adapters over the real protocols: an HTTP SMS gateway, the WeChat Official Account API, SMTP, and a
signed webhook. Each sends one rendered message and answers ``Accepted`` or ``Failure``; none raises for a
provider or network error."""

from __future__ import annotations

from services.notifier.adapters.providers.base import (
    AnyProviderSettings,
    HttpProviderSettings,
    Provider,
    ProviderSettings,
    SmsGatewaySettings,
    SmtpSettings,
    WebhookSettings,
    WeChatSettings,
)
from services.notifier.adapters.providers.email import SmtpEmail
from services.notifier.adapters.providers.sms import HttpSmsGateway
from services.notifier.adapters.providers.webhook import SignedWebhook
from services.notifier.adapters.providers.wechat import WeChatOfficialAccount


def build_provider(settings: AnyProviderSettings) -> Provider:
    """The adapter a chain's settings describe."""
    match settings:
        case SmsGatewaySettings():
            return HttpSmsGateway(settings)
        case WeChatSettings():
            return WeChatOfficialAccount(settings)
        case SmtpSettings():
            return SmtpEmail(settings)
        case WebhookSettings():
            return SignedWebhook(settings)
    raise TypeError(f"no adapter for {type(settings).__name__}")


__all__ = [
    "AnyProviderSettings",
    "HttpProviderSettings",
    "HttpSmsGateway",
    "Provider",
    "ProviderSettings",
    "SignedWebhook",
    "SmsGatewaySettings",
    "SmtpEmail",
    "SmtpSettings",
    "WeChatOfficialAccount",
    "WeChatSettings",
    "WebhookSettings",
    "build_provider",
]
