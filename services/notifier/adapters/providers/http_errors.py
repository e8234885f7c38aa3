"""How an HTTP answer or a transport error becomes a ``Failure``: the one classification every HTTP adapter shares.

Transient (retry later): timeouts, refused or reset connections, 408, 429 and every 5xx; a ``Retry-After``
header (seconds or an HTTP-date) on any of them is kept, because the provider's own word beats our backoff
schedule. Permanent (retrying cannot help): any other 4xx, and a 3xx, which means the URL is wrong since
adapters never follow redirects with a body that carries a message.

Private to the providers; the domain's retry rules reconcile with it later.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from services.notifier.domain.messages import Failure, FailureKind
from services.notifier.domain.retry import classify_http_status

_MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class HttpAnswer:
    """A provider's answer, read whole: adapters need the status, a header or two and a small body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def truncate(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def classify_status(status: int, headers: Mapping[str, str] | None = None, body: str = "") -> Failure | None:
    """None for a 2xx; otherwise the failure the status means (the domain's rule), with the body for people."""
    failure = classify_http_status(status, (headers or {}).get("Retry-After"), datetime.now(UTC))
    if failure is None:
        return None
    return replace(failure, message=truncate(f"HTTP {status}: {body}" if body else f"HTTP {status}"))


def classify_exception(exc: BaseException) -> Failure:
    """A transport-level error: always transient, since the request may simply not have reached the provider."""
    detail = truncate(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return Failure(FailureKind.TRANSIENT, "timeout", detail)
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return Failure(FailureKind.TRANSIENT, "connection_error", detail)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError | ConnectionResetError):
        return Failure(FailureKind.TRANSIENT, "connection_reset", detail)
    return Failure(FailureKind.TRANSIENT, "connection_error", detail)


def json_body(response: HttpAnswer) -> Any:
    """The decoded JSON answer, or None for an empty or non-JSON one (providers are not always tidy)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


async def request(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> HttpAnswer | Failure:
    """Send one request and read the answer; a transport error comes back as a Failure instead of an exception."""
    try:
        async with session.request(method, url, allow_redirects=False, **kwargs) as response:
            return HttpAnswer(response.status, response.headers, await response.read())
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:  # every transport error, timeouts included
        return classify_exception(exc)
