"""Builds the chain's configured providers from their settings."""

from __future__ import annotations

from services.notifier.adapters.providers.base import (
    Provider,
    SmsGatewaySettings,
    SmtpSettings,
    WebhookSettings,
    WeChatSettings,
)
from services.notifier.adapters.providers.email import SmtpEmail
from services.notifier.adapters.providers.sms import HttpSmsGateway
from services.notifier.adapters.providers.webhook import SignedWebhook
from services.notifier.adapters.providers.wechat import WeChatOfficialAccount

AnyProviderSettings = SmsGatewaySettings | WeChatSettings | SmtpSettings | WebhookSettings


def build(settings: AnyProviderSettings) -> Provider:
    match settings:
        case SmsGatewaySettings():
            return HttpSmsGateway(settings)
        case WeChatSettings():
            return WeChatOfficialAccount(settings)
        case SmtpSettings():
            return SmtpEmail(settings)
        case WebhookSettings():
            return SignedWebhook(settings)
