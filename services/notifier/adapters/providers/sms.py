"""SMS channel: a generic HTTP SMS gateway, described by settings rather than code.

Chains use different gateways, and they differ in little more than field names, the credential header and
where the answer puts its id; ``SmsGatewaySettings`` says all three. The idempotency key goes both in a header
and (by the default mapping) in the payload's ``client_ref``, so a gateway that dedupes on either keeps a resend
after a crash to one SMS. A gateway's own 4xx reason (``{"error": "invalid_number"}``) becomes the failure code,
so the ledger records why a number is dead rather than just ``http_400``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from services.notifier.adapters.providers.base import HttpPool, SmsGatewaySettings
from services.notifier.adapters.providers.http_errors import HttpAnswer, classify_status, json_body, truncate
from services.notifier.domain.messages import Accepted, Failure, FailureKind, RenderedMessage, SendResult
from shared.contracts import Channel
from shared.signing import signed_headers

_CODE = re.compile(r"[^a-z0-9_.-]+")


def lookup(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def _put(document: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[leaf] = value


class HttpSmsGateway:
    channel = Channel.SMS

    def __init__(
        self,
        settings: SmsGatewaySettings,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = settings.name
        self._settings = settings
        headers = {}
        if settings.auth_value is not None:
            headers[settings.auth_header] = settings.auth_value.get_secret_value()
        self._http = HttpPool(settings, headers=headers)
        self._hmac = settings.hmac_secret.get_secret_value().encode() if settings.hmac_secret else None
        self._wall_clock = wall_clock

    def payload(self, message: RenderedMessage) -> dict[str, Any]:
        ours = {
            "to": message.to,
            "text": message.text,
            "idempotency_key": message.idempotency_key,
            "sender_id": self._settings.sender_id,
        }
        document: dict[str, Any] = {}
        for field, value in self._settings.static_fields.items():
            _put(document, field, value)
        for field, source in self._settings.payload.items():
            # No key is sent as no field: a gateway deduping on "" would swallow every keyless message.
            if ours[source] is not None and not (source == "idempotency_key" and not ours[source]):
                _put(document, field, ours[source])
        return document

    async def send(self, message: RenderedMessage) -> SendResult:
        body = json.dumps(self.payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self._settings.idempotency_header and message.idempotency_key:
            headers[self._settings.idempotency_header] = message.idempotency_key
        if self._hmac is not None:
            headers.update(signed_headers(self._hmac, body, self._wall_clock()))
        response = await self._http.request("POST", self._settings.url, content=body, headers=headers)
        if not isinstance(response, HttpAnswer):
            return response
        answer = json_body(response)
        failure = classify_status(response.status_code, response.headers, response.text)
        if failure is not None:
            return self._gateway_reason(failure, answer)
        message_id = lookup(answer, self._settings.message_id_field)
        # Accepted is accepted: a gateway that names no id must not be retried into a second SMS.
        return Accepted(str(message_id) if message_id not in (None, "") else message.idempotency_key)

    def _gateway_reason(self, failure: Failure, answer: Any) -> Failure:
        if failure.kind is not FailureKind.PERMANENT:
            return failure
        reason = lookup(answer, self._settings.error_field)
        if not isinstance(reason, str) or not reason.strip():
            return failure
        code = _CODE.sub("_", reason.strip().lower())[:64]
        return Failure(FailureKind.PERMANENT, code, truncate(f"{failure.code}: {reason}"))

    async def aclose(self) -> None:
        await self._http.aclose()
