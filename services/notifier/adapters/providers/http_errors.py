"""How an HTTP answer or a transport error becomes a ``Failure``: the one classification every HTTP adapter shares.

Transient (retry later): timeouts, refused or reset connections, 408, 429 and every 5xx; a ``Retry-After``
header (seconds or an HTTP-date) on any of them is kept, because the provider's own word beats our backoff
schedule. Permanent (retrying cannot help): any other 4xx, and a 3xx, which means the URL is wrong since
adapters never follow redirects with a body that carries a message.

Private to the providers; the domain's retry rules reconcile with it later.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from services.notifier.domain.messages import Failure, FailureKind

_MESSAGE_LIMIT = 500
_TRANSIENT_4XX = frozenset({408, 425, 429})


def truncate(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def classify_status(
    status: int, headers: Mapping[str, str] | None = None, body: str = "", now: float | None = None
) -> Failure | None:
    """None for a 2xx; otherwise the failure the status means, with ``http_<status>`` as its code."""
    if 200 <= status < 300:
        return None
    retry_after = parse_retry_after((headers or {}).get("retry-after"), now)
    message = truncate(f"HTTP {status}: {body}" if body else f"HTTP {status}")
    if status >= 500 or status in _TRANSIENT_4XX:
        return Failure(FailureKind.TRANSIENT, f"http_{status}", message, retry_after)
    return Failure(FailureKind.PERMANENT, f"http_{status}", message)


def classify_exception(exc: BaseException) -> Failure:
    """A transport-level error: always transient, since the request may simply not have reached the provider."""
    detail = truncate(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return Failure(FailureKind.TRANSIENT, "timeout", detail)
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return Failure(FailureKind.TRANSIENT, "connection_error", detail)
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError | ConnectionResetError):
        return Failure(FailureKind.TRANSIENT, "connection_reset", detail)
    return Failure(FailureKind.TRANSIENT, "connection_error", detail)


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON answer, or None for an empty or non-JSON one (providers are not always tidy)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


async def request(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response | Failure:
    """Send one request; a transport error comes back as a Failure instead of an exception."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:  # every transport error, timeouts included
        return classify_exception(exc)
    except OSError as exc:  # a socket error httpx did not wrap
        return classify_exception(exc)
