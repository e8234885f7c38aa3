"""Webhook channel: the chain's own app receives a signed JSON POST per message.

Signature scheme (``shared.signing``: the one ingest verifies on its inbound webhooks, so one spec serves both
directions):

- ``X-MemberPulse-Timestamp``: the send time in unix seconds, as a decimal string;
- ``X-MemberPulse-Signature``: ``"sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))``, over the exact
  body bytes sent;
- the receiver recomputes it in constant time and refuses a timestamp more than its replay window (ingest:
  300 s) away from its clock. Each attempt is signed afresh, so a retry is never mistaken for a replay;
- ``Idempotency-Key``: the message's key (also the payload's ``id``); a receiver that sees it twice keeps one.

Body: ``{"id", "channel": "webhook", "to", "title", "text", "locale", "direction", "message_type",
"unsubscribe_url", "data"}``, UTF-8 JSON. A 2xx answer is acceptance; its JSON ``id``, when present, is the
receiver's id for the message, otherwise ours stands in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from services.notifier.adapters.providers.base import HttpPool, WebhookSettings
from services.notifier.adapters.providers.http_errors import HttpAnswer, classify_status, json_body
from services.notifier.domain.messages import Accepted, RenderedMessage, SendResult
from shared.contracts import Channel
from shared.signing import signed_headers

IDEMPOTENCY_HEADER = "Idempotency-Key"


def payload(message: RenderedMessage) -> dict[str, Any]:
    return {
        "id": message.idempotency_key,
        "channel": Channel.WEBHOOK.value,
        "to": message.to,
        "title": message.subject,
        "text": message.text,
        "locale": message.locale,
        "direction": message.direction,
        "message_type": message.message_type.value,
        "unsubscribe_url": message.unsubscribe_url,
        "data": dict(message.data),
    }


class SignedWebhook:
    channel = Channel.WEBHOOK

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = settings.name
        self._settings = settings
        self._secret = settings.secret.get_secret_value().encode()
        self._http = HttpPool(settings, headers=settings.headers)
        self._wall_clock = wall_clock

    async def send(self, message: RenderedMessage) -> SendResult:
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **signed_headers(self._secret, body, self._wall_clock()),
        }
        if message.idempotency_key:
            headers[IDEMPOTENCY_HEADER] = message.idempotency_key
        response = await self._http.request("POST", self._settings.url, content=body, headers=headers)
        if not isinstance(response, HttpAnswer):
            return response
        failure = classify_status(response.status_code, response.headers, response.text)
        if failure is not None:
            return failure
        answer = json_body(response)
        receiver_id = answer.get("id") if isinstance(answer, dict) else None
        return Accepted(str(receiver_id) if receiver_id else message.idempotency_key)

    async def aclose(self) -> None:
        await self._http.aclose()
