"""WeChat channel: template messages through the Official Account API.

The access token comes from ``GET /cgi-bin/token`` and is cached until WeChat's ``expires_in`` minus a safety
margin. WeChat caps token fetches per day and a new token can retire the old one, so one fetch runs at a time:
concurrent sends that find no token wait on one lock, and whoever gets it second finds the fresh token (or the
failure of the fetch it waited on) instead of fetching again.

``POST /cgi-bin/message/template/send`` answers HTTP 200 with ``errcode``:

- 0: sent; ``msgid`` is the provider id;
- 40001/42001/40014 (invalid, expired, malformed token): the token is dropped, a new one fetched and the send
  retried once, at once; a second such answer is transient;
- -1 (system busy), 45009/45011 (API quota): transient;
- 43004 (not subscribed), 43101 (user refused), 40003 (invalid openid), 40037 (invalid template) and any other
  code: permanent, as ``wechat_<errcode>``; retrying the same request cannot change WeChat's mind.

``client_msg_id`` carries the idempotency key: WeChat's own dedupe field, so a resend is one message.
Token-endpoint errors other than busy/quota (wrong appid or secret, IP not allow-listed) are permanent too, as
``wechat_token_<errcode>``: the chain's configuration is wrong and the next channel should carry the message.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

from services.notifier.adapters.providers.base import HttpPool, WeChatSettings
from services.notifier.adapters.providers.http_errors import HttpAnswer, classify_status, json_body, truncate
from services.notifier.domain.messages import Accepted, Failure, FailureKind, RenderedMessage, SendResult
from shared.contracts import Channel

TOKEN_ERRCODES = frozenset({40001, 42001, 40014})
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011})
_TOKEN_CODES = frozenset(f"wechat_{code}" for code in TOKEN_ERRCODES)
_KEYWORD = re.compile(r"keyword\d+")


class WeChatOfficialAccount:
    channel = Channel.WECHAT

    def __init__(
        self,
        settings: WeChatSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = settings.name
        self._settings = settings
        self._base = settings.base_url.rstrip("/")
        self._http = HttpPool(settings)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        # Bumped by every fetch, so a waiter can tell someone fetched while it waited.
        self._generation = 0
        self._last_fetch_failure: Failure | None = None
        self.token_fetches = 0

    def template_body(self, message: RenderedMessage, template_id: str) -> dict[str, Any]:
        data: dict[str, dict[str, str]] = {
            "first": {"value": message.subject},
            "keyword1": {"value": message.text},
        }
        # Templates with more keyword slots get them from the offer's variables of the same name.
        for key, value in message.data.items():
            if _KEYWORD.fullmatch(key) and key != "keyword1":
                data[key] = {"value": value}
        data["remark"] = {"value": message.data.get("remark", "")}
        body: dict[str, Any] = {"touser": message.to, "template_id": template_id, "data": data}
        if message.idempotency_key:
            body["client_msg_id"] = message.idempotency_key
        return body

    async def send(self, message: RenderedMessage) -> SendResult:
        template_id = self._settings.template_ids.get(message.message_type)
        if template_id is None:
            return Failure(FailureKind.PERMANENT, "wechat_no_template", f"no template for {message.message_type.value}")
        body = json.dumps(self.template_body(message, template_id), ensure_ascii=False).encode()
        result: SendResult | None = None
        for _ in range(2):
            token = await self.access_token()
            if isinstance(token, Failure):
                return token
            result = await self._post(token, body)
            if not (isinstance(result, Failure) and result.code in _TOKEN_CODES):
                return result
            self._invalidate(token)
        assert result is not None
        return result  # a second token error: transient, the next attempt fetches afresh

    async def _post(self, token: str, body: bytes) -> SendResult:
        response = await self._http.request(
            "POST",
            f"{self._base}/cgi-bin/message/template/send",
            params={"access_token": token},
            content=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        if not isinstance(response, HttpAnswer):
            return response
        failure = classify_status(response.status_code, response.headers, response.text)
        if failure is not None:
            return failure
        answer = json_body(response)
        if not isinstance(answer, dict):
            return Failure(FailureKind.TRANSIENT, "wechat_bad_response", truncate(response.text))
        errcode = _errcode(answer)
        if errcode is None:
            return Failure(FailureKind.TRANSIENT, "wechat_bad_response", truncate(response.text))
        if errcode == 0:
            return Accepted(str(answer.get("msgid", "")))
        message = truncate(str(answer.get("errmsg", "")))
        if errcode in TRANSIENT_ERRCODES or errcode in TOKEN_ERRCODES:
            return Failure(FailureKind.TRANSIENT, f"wechat_{errcode}", message)
        return Failure(FailureKind.PERMANENT, f"wechat_{errcode}", message)

    async def access_token(self) -> str | Failure:
        """The cached token, or one fresh fetch shared by every send that needs it now."""
        if (token := self._valid_token()) is not None:
            return token
        generation = self._generation
        async with self._lock:
            if (token := self._valid_token()) is not None:
                return token
            if self._generation != generation and self._last_fetch_failure is not None:
                return self._last_fetch_failure  # the fetch we waited on just failed: do not hammer the endpoint
            outcome = await self._fetch_token()
            self._generation += 1
            self._last_fetch_failure = outcome if isinstance(outcome, Failure) else None
            return outcome

    def _valid_token(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    def _invalidate(self, token: str) -> None:
        # Only the token that failed: a fresher one fetched meanwhile by another send stays.
        if self._token == token:
            self._token = None

    async def _fetch_token(self) -> str | Failure:
        self.token_fetches += 1
        response = await self._http.request(
            "GET",
            f"{self._base}/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": self._settings.appid,
                "secret": self._settings.secret.get_secret_value(),
            },
        )
        if not isinstance(response, HttpAnswer):
            return response
        failure = classify_status(response.status_code, response.headers, response.text)
        if failure is not None:
            return failure
        answer = json_body(response)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or not isinstance(token, str) or not token:
            errcode = _errcode(answer) if isinstance(answer, dict) else None
            if not errcode:
                return Failure(FailureKind.TRANSIENT, "wechat_bad_response", truncate(response.text))
            assert isinstance(answer, dict)
            message = truncate(str(answer.get("errmsg", "")))
            kind = FailureKind.TRANSIENT if errcode in TRANSIENT_ERRCODES else FailureKind.PERMANENT
            return Failure(kind, f"wechat_token_{errcode}", message)
        try:
            expires_in = float(answer.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200.0
        margin = min(self._settings.token_margin_s, expires_in / 2)
        self._token = token
        self._expires_at = self._clock() + expires_in - margin
        return token

    async def aclose(self) -> None:
        await self._http.aclose()


def _errcode(answer: dict[str, Any]) -> int | None:
    try:
        return int(answer.get("errcode", 0))
    except (TypeError, ValueError):
        return None
