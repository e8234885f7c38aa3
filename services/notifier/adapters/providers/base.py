"""The channel-adapter protocol and the settings of each adapter, configured per chain.

An adapter sends one already-rendered message over a real protocol and answers ``Accepted`` or ``Failure``;
it never raises for a provider or network error, so the caller's retry and fallback rules see every outcome
as a value. Settings are plain pydantic models (not environment-bound): the service nests them per chain,
and ``kind`` tells them apart when they arrive as JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.notifier.adapters.providers.http_errors import HttpAnswer, request
from services.notifier.domain.messages import Failure, RenderedMessage, SendResult
from shared.contracts import Channel, MessageType


@runtime_checkable
class Provider(Protocol):
    channel: Channel
    # Rate-limit bucket: adapters sharing a name share one limit (two chains on one SMS gateway account).
    name: str

    async def send(self, message: RenderedMessage) -> SendResult: ...

    async def aclose(self) -> None: ...


class ProviderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # One call's budget: connect, write and read each; a provider slower than this counts as a timeout.
    timeout_s: float = Field(default=5.0, gt=0)
    # Connections kept open to the provider; the pool's size caps concurrent calls to it (a provider answering
    # in 200 ms needs 400 of them for 2,000 sends/s).
    max_connections: int = Field(default=100, ge=1)


class HttpProviderSettings(ProviderSettings):
    # An idle keep-alive connection is closed after this long (providers drop idle clients anyway).
    keepalive_expiry_s: float = Field(default=30.0, ge=0)


SmsField = Literal["to", "text", "idempotency_key", "sender_id"]


def _default_sms_payload() -> dict[str, SmsField]:
    return {"to": "to", "text": "text", "client_ref": "idempotency_key"}


class SmsGatewaySettings(HttpProviderSettings):
    kind: Literal["http_sms"] = "http_sms"
    name: str = "sms"
    url: str
    # Static credential: the header and its whole value, e.g. ("Authorization", "Bearer x") or ("X-Api-Key", "k").
    auth_header: str = "Authorization"
    auth_value: SecretStr | None = None
    # Or a signed request, in the same scheme as the webhook channel (see webhook.py).
    hmac_secret: SecretStr | None = None
    sender_id: str | None = None
    # Gateway's JSON field -> our field; nested gateway fields are written dotted ("message.to").
    payload: dict[str, SmsField] = Field(default_factory=_default_sms_payload)
    # Constant fields every request carries (an account id, a route), merged under the mapped ones.
    static_fields: dict[str, str] = Field(default_factory=dict)
    # Where the gateway's id sits in its JSON answer (dotted for nested, "data.id").
    message_id_field: str = "message_id"
    # Where a 4xx answer names its reason: {"error": "invalid_number"} fails with code "invalid_number".
    error_field: str = "error"
    # Header carrying our idempotency key; None for a gateway that only reads it from the payload.
    idempotency_header: str | None = "Idempotency-Key"


class WeChatSettings(HttpProviderSettings):
    kind: Literal["wechat_oa"] = "wechat_oa"
    name: str = "wechat"
    base_url: str = "https://api.weixin.qq.com"
    appid: str
    secret: SecretStr
    # Template per message type, as approved in the Official Account's back office.
    template_ids: dict[MessageType, str] = Field(default_factory=dict)
    # Refresh this long before WeChat says the token expires, so no send races the expiry.
    token_margin_s: float = Field(default=300.0, ge=0)


class SmtpSettings(ProviderSettings):
    kind: Literal["smtp"] = "smtp"
    name: str = "email"
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    # "auto": upgrade when the server offers STARTTLS; True: refuse to send without it; False: never.
    starttls: Literal["auto"] | bool = "auto"
    # Implicit TLS from the first byte (port 465); excludes STARTTLS.
    use_tls: bool = False
    # A private CA to trust instead of the system store (tests, internal relays).
    ca_file: Path | None = None
    validate_certs: bool = True
    from_address: str
    from_name: str | None = None
    # SMTP sessions are reused; one idle longer than this is closed instead (servers drop idle clients).
    max_connections: int = Field(default=4, ge=1)
    idle_s: float = Field(default=30.0, ge=0)


class WebhookSettings(HttpProviderSettings):
    kind: Literal["webhook"] = "webhook"
    name: str = "webhook"
    url: str
    secret: SecretStr
    # Extra constant headers (a tenant id the receiving app routes on).
    headers: dict[str, str] = Field(default_factory=dict)


AnyProviderSettings = Annotated[
    SmsGatewaySettings | WeChatSettings | SmtpSettings | WebhookSettings, Field(discriminator="kind")
]


class HttpPool:
    """Keep-alive HTTP/1.1 connections to one provider, on aiohttp.

    aiohttp rather than httpx for this hot path: measured against the local sink, httpx cost about
    0.6 ms of CPU per request (its pool and anyio layers), more than everything else a send does,
    and capped one notifier near 900 sends/s. The session is made on first use, inside the loop.
    """

    def __init__(self, settings: HttpProviderSettings, headers: dict[str, str] | None = None) -> None:
        self._settings = settings
        self._headers = headers
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._settings.max_connections, keepalive_timeout=self._settings.keepalive_expiry_s
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s),
            )
        return self._session

    async def request(self, method: str, url: str, **kwargs: Any) -> HttpAnswer | Failure:
        """One call; a transport error (timeout, refused, reset) comes back as a transient Failure."""
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        return await request(self._client(), method, url, **kwargs)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
