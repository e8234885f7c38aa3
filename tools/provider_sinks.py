"""Real local servers that play the notifier's providers, with fault injection, for tests and benchmarks.

``ProviderSink`` is one HTTP server (a small asyncio HTTP/1.1 server, cheaper per call than uvicorn) that plays:

- an SMS gateway: ``POST /sms/send`` (bearer auth, E.164 check, ``{"error": "invalid_number"}`` on a bad number);
- the WeChat Official Account API: ``GET /cgi-bin/token`` and ``POST /cgi-bin/message/template/send`` (tokens
  expire after ``token_ttl_s``; ``expire_tokens()`` makes every issued token answer errcode 40001);
- the chain's app: ``POST /webhook``, checking the HMAC signature with ingest's own verifier (401 otherwise).

Like real providers it honours idempotency keys (``Idempotency-Key`` / ``client_ref`` for SMS, ``(touser,
client_msg_id)`` for WeChat, ``Idempotency-Key`` / ``id`` for the webhook): a repeated key gets the first answer
and counts in ``duplicates_absorbed``, not as a second delivery. Every call is logged with its outcome and its
arrival time (monotonic, comparable across processes on Linux, and wall), so backoff schedules and rate limits can
be measured at the sink.

Faults, per route (``sms``, ``wechat_token``, ``wechat_send``, ``webhook``), for the next n calls::

    sink.fail_next("sms", 2, 500)                        # HTTP 500
    sink.fail_next("sms", 1, 429, retry_after=2)          # 429 with Retry-After: 2
    sink.fail_next("sms", 1, "timeout", delay_s=5)        # stall longer than the client's timeout
    sink.fail_next("sms", 1, "reset")                     # close the connection (RST) without answering
    sink.fail_next("sms", 1, "slow", delay_s=0.5)         # answer normally, late
    sink.fail_next("sms", 1, 400)                         # {"error": "invalid_number"}
    sink.fail_next("wechat_send", 1, errcode=43004)       # HTTP 200 with a WeChat errcode

``processed=True`` on "timeout"/"reset" accepts the message before failing the call: the ambiguous case where
the provider sent it but the client never heard, which only the idempotency key keeps to one delivery.

In-process: ``with ProviderSink() as sink:`` (a background thread with its own loop; ``sink.url``).
As a process that outlives the service under test: ``python -m tools.provider_sinks --port 0
--state-file F`` prints one JSON line ``{"url": ..., "port": ..., "pid": ...}`` when listening; ``SinkProcess``
starts it and ``SinkClient`` drives it over the control API (``GET /_sink/deliveries``, ``GET /_sink/calls``,
``GET /_sink/stats``, ``POST /_sink/faults``, ``POST /_sink/reset``, ``POST /_sink/expire_tokens``,
``POST /_sink/wechat_unsubscribed``). The state file journals accepted deliveries (one JSON line each, flushed),
so a restarted sink still remembers the keys it answered.

``SmtpSink`` is an aiosmtpd server with STARTTLS (a ``trustme`` CA; ``ca_file`` for the client) that records
parsed messages and can answer 421/451/550 for the next n messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.message
import email.policy
import http
import itertools
import json
import logging
import os
import re
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from services.ingest.domain.signatures import Unauthenticated, verify_hmac

REPO_ROOT = Path(__file__).resolve().parents[1]

ROUTES = ("sms", "wechat_token", "wechat_send", "webhook")
SMS_AUTH = "Bearer sink-sms-token"
WECHAT_APPID = "wx-sink-app"
# The sinks' own credentials, for a server on 127.0.0.1 that only tests and the demo talk to.
WECHAT_SECRET = "sink-wechat-secret"  # noqa: S105
WEBHOOK_SECRET = "sink-webhook-secret"  # noqa: S105
REPLAY_WINDOW_S = 300

FaultKind = int | Literal["timeout", "reset", "slow"]
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
_DEFAULT_DELAY = {"timeout": 5.0, "slow": 0.5, "reset": 0.0}


@dataclass(frozen=True)
class Fault:
    status: FaultKind = 500
    retry_after: float | str | None = None
    delay_s: float | None = None
    body: dict[str, Any] | None = None
    errcode: int | None = None
    processed: bool = False

    @property
    def delay(self) -> float:
        if self.delay_s is not None:
            return self.delay_s
        return _DEFAULT_DELAY.get(str(self.status), 0.0)


@dataclass(frozen=True)
class Delivery:
    """One message the sink accepted (a duplicate key adds no Delivery)."""

    channel: str
    to: str
    idempotency_key: str
    provider_id: str
    body: dict[str, Any]
    t_mono: float
    t_wall: float


@dataclass(frozen=True)
class Call:
    """One request to a provider route, whatever came of it: ``accepted``, ``duplicate``, ``fault:500`` …"""

    route: str
    outcome: str
    idempotency_key: str
    t_mono: float
    t_wall: float


class SinkState:
    """Everything the sink remembers; shared by the server thread and the test, so every access is locked."""

    def __init__(self, *, state_file: Path | None = None, token_ttl_s: float = 7200.0) -> None:
        self._lock = threading.Lock()
        self.token_ttl_s = token_ttl_s
        self._state_file = state_file
        self._journal: Any = None
        self.unsubscribed_openids: set[str] = set()
        self._clear()
        if state_file is not None:
            self._load(state_file)
            self._journal = state_file.open("a", encoding="utf-8")

    def _clear(self) -> None:
        self._ids = itertools.count(1)
        self.deliveries: list[Delivery] = []
        self.answers: dict[tuple[str, str], dict[str, Any]] = {}
        self.duplicates_absorbed = 0
        self.calls: Counter[str] = Counter()
        self.call_log: list[Call] = []
        self.faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self.tokens: dict[str, float] = {}
        self.revoked_tokens: set[str] = set()

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            delivery = Delivery(**entry["delivery"])
            self.deliveries.append(delivery)
            self.answers[(delivery.channel, delivery.idempotency_key)] = entry["answer"]
        self._ids = itertools.count(len(self.deliveries) + 1)

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    # -- used by the server -------------------------------------------------------------------------------
    def call(self, route: str, outcome: str, key: str, arrived: tuple[float, float]) -> None:
        """Log one request, once, with its arrival time (monotonic, wall), whatever its outcome."""
        with self._lock:
            self.calls[route] += 1
            self.call_log.append(Call(route, outcome, key, *arrived))

    def take_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self.faults[route]
            return queue.popleft() if queue else None

    def accept(
        self,
        channel: str,
        key: str,
        to: str,
        body: dict[str, Any],
        answer: Callable[[int], dict[str, Any]],
        arrived: tuple[float, float],
    ) -> tuple[dict[str, Any], bool]:
        """The answer for this message: the first one again for a known key (a duplicate), else a new delivery."""
        with self._lock:
            if key and (channel, key) in self.answers:
                self.duplicates_absorbed += 1
                return self.answers[(channel, key)], True
            number = next(self._ids)
            reply = answer(number)
            provider_id = str(reply.get("message_id") or reply.get("msgid") or reply.get("id") or number)
            # Arrival of the request, not the end of a "slow" answer: rates are measured where calls begin.
            delivery = Delivery(channel, to, key, provider_id, body, *arrived)
            self.deliveries.append(delivery)
            if key:
                self.answers[(channel, key)] = reply
            if self._journal is not None:
                self._journal.write(json.dumps({"delivery": asdict(delivery), "answer": reply}, ensure_ascii=False))
                self._journal.write("\n")
                self._journal.flush()
            return reply, False

    def issue_token(self) -> str:
        with self._lock:
            token = f"sinktoken-{len(self.tokens) + 1}-{secrets.token_hex(6)}"
            self.tokens[token] = time.monotonic() + self.token_ttl_s
            return token

    def token_errcode(self, token: str) -> int:
        """0 for a live token; 40001 for an unknown or revoked one, 42001 for an expired one (WeChat's codes)."""
        with self._lock:
            if token not in self.tokens or token in self.revoked_tokens:
                return 40001
            return 42001 if time.monotonic() >= self.tokens[token] else 0

    # -- used by tests --------------------------------------------------------------------------------------
    def fail_next(self, route: str, n: int, fault: Fault) -> None:
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {ROUTES}")
        with self._lock:
            self.faults[route].extend([fault] * n)

    def expire_tokens(self) -> None:
        with self._lock:
            self.revoked_tokens.update(self.tokens)

    def reset(self) -> None:
        with self._lock:
            self._clear()
            self.unsubscribed_openids.clear()
            if self._journal is not None:
                self._journal.seek(0)
                self._journal.truncate()

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        with self._lock:
            return {
                "deliveries": [asdict(d) for d in self.deliveries[since:]],
                "next": len(self.deliveries),
                "duplicates_absorbed": self.duplicates_absorbed,
                "calls": dict(self.calls),
            }

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "deliveries": len(self.deliveries),
                "duplicates_absorbed": self.duplicates_absorbed,
                "calls": dict(self.calls),
                "by_channel": dict(Counter(d.channel for d in self.deliveries)),
            }

    def calls_snapshot(self, since: int = 0) -> dict[str, Any]:
        with self._lock:
            return {"calls": [asdict(c) for c in self.call_log[since:]], "next": len(self.call_log)}


# -- a small HTTP/1.1 server ------------------------------------------------------------------------------
# Not uvicorn+Starlette: they cost ~0.45 ms of CPU per call here, which made the sink, not the notifier, the
# bottleneck of a 2,000 sends/s benchmark on a two-core box; and a "reset" fault needs the request's own socket.
# This serves keep-alive HTTP/1.1 with Content-Length or chunked bodies, one request at a time per connection.

_log = logging.getLogger("provider_sink")
_MAX_HEAD = 64 * 1024


@dataclass
class Request:
    method: str
    path: str
    query_params: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    transport: asyncio.Transport
    keep_alive: bool
    arrived: tuple[float, float] = (0.0, 0.0)  # (monotonic, wall) when the whole request had arrived

    async def body(self) -> bytes:
        return self.raw


class Response:
    def __init__(
        self,
        content: bytes = b"",
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
    ) -> None:
        self.content = content
        self.status_code = status_code
        self.headers = headers or {}
        self.media_type = media_type

    def encode(self, keep_alive: bool) -> bytes:
        try:
            reason = http.HTTPStatus(self.status_code).phrase
        except ValueError:
            reason = "Status"
        lines = [
            f"HTTP/1.1 {self.status_code} {reason}",
            f"Content-Type: {self.media_type}",
            f"Content-Length: {len(self.content)}",
            *(f"{name}: {value}" for name, value in self.headers.items()),
        ]
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.content


class JSONResponse(Response):
    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        super().__init__(body, status_code, headers, "application/json; charset=utf-8")


class _BadRequest(Exception):
    pass


Handler = Callable[[Request], Any]  # async (Request) -> Response | None; None: the connection was aborted


class _HttpConnection(asyncio.Protocol):
    def __init__(self, dispatch: Handler, connections: set[_HttpConnection]) -> None:
        self._dispatch = dispatch
        self._connections = connections
        self._buffer = bytearray()
        self._busy = False
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._connections.discard(self)
        if self._task is not None and not self._task.done():
            self._task.cancel()  # a stalled ("timeout") answer nobody waits for any more

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._next()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _next(self) -> None:
        try:
            request = self._parse()
        except (_BadRequest, ValueError, UnicodeDecodeError):
            assert self.transport is not None
            self.transport.write(JSONResponse({"error": "bad_request"}, 400).encode(keep_alive=False))
            self.transport.close()
            self._closed = True
            return
        if request is not None:
            self._busy = True
            self._task = asyncio.get_running_loop().create_task(self._handle(request))

    async def _handle(self, request: Request) -> None:
        try:
            response = await self._dispatch(request)
        except Exception:
            _log.exception("provider sink handler failed for %s %s", request.method, request.path)
            response = JSONResponse({"error": "sink_error"}, 500)
        if self._closed or response is None or self.transport is None:
            return
        self.transport.write(response.encode(request.keep_alive))
        if not request.keep_alive:
            self.transport.close()
            self._closed = True
            return
        self._busy = False
        if self._buffer:
            self._next()

    def _parse(self) -> Request | None:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEAD:
                raise _BadRequest("header too large")
            return None
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunked = _dechunk(buffer, start)
            if chunked is None:
                return None
            raw, consumed = chunked
        else:
            length = int(headers.get("content-length", "0") or "0")
            if len(buffer) < start + length:
                return None
            raw, consumed = bytes(buffer[start : start + length]), start + length
        del buffer[:consumed]
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        assert self.transport is not None
        params = dict(parse_qsl(query, keep_blank_values=True))
        arrived = (time.monotonic(), time.time())
        return Request(method, path, params, headers, raw, self.transport, keep_alive, arrived)


def _dechunk(buffer: bytearray, pos: int) -> tuple[bytes, int] | None:
    """A chunked body from ``pos``: (body, end offset), or None while incomplete."""
    body = bytearray()
    while True:
        eol = buffer.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buffer[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            while True:  # trailers, up to the empty line
                eol = buffer.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return bytes(body), eol + 2
                pos = eol + 2
        if len(buffer) < pos + size + 2:
            return None
        body += buffer[pos : pos + size]
        pos += size + 2


class _SinkApp:
    """The routes, as plain async functions from a Request to a Response (None once a fault aborted it)."""

    def __init__(
        self, state: SinkState, *, sms_auth: str | None, appid: str, app_secret: str, webhook_secret: str
    ) -> None:
        self.state = state
        self.sms_auth = sms_auth
        self.appid = appid
        self.app_secret = app_secret
        self.webhook_secret = webhook_secret.encode()
        # The SMTP sink run alongside (``--smtp-port``), whose counts /_sink/stats adds.
        self.mail: SmtpSink | None = None
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "/sms/send"): self.sms,
            ("GET", "/cgi-bin/token"): self.wechat_token,
            ("POST", "/cgi-bin/message/template/send"): self.wechat_send,
            ("POST", "/webhook"): self.webhook,
            ("GET", "/_sink/deliveries"): self.control_deliveries,
            ("GET", "/_sink/calls"): self.control_calls,
            ("GET", "/_sink/stats"): self.control_stats,
            ("POST", "/_sink/faults"): self.control_faults,
            ("POST", "/_sink/reset"): self.control_reset,
            ("POST", "/_sink/expire_tokens"): self.control_expire,
            ("POST", "/_sink/wechat_unsubscribed"): self.control_unsubscribed,
        }
        self._paths = {path for _, path in self.routes}

    async def dispatch(self, request: Request) -> Response | None:
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            status = 405 if request.path in self._paths else 404
            return JSONResponse({"error": http.HTTPStatus(status).phrase.lower().replace(" ", "_")}, status)
        response: Response | None = await handler(request)
        return response

    # -- faults ---------------------------------------------------------------------------------------------
    async def _fault(
        self, request: Request, route: str, key: str, accept: Callable[[], object]
    ) -> Response | Literal["aborted"] | None:
        """Apply the route's next fault, if any: what to answer ("aborted": nothing), or None to go on normally."""
        fault = self.state.take_fault(route)
        if fault is None:
            return None
        if fault.status == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if fault.processed:
            accept()
        if fault.status == "timeout":
            self.state.call(route, "fault:timeout", key, request.arrived)
            await asyncio.sleep(fault.delay)
            return JSONResponse({"error": "gateway_timeout"}, status_code=504)
        if fault.status == "reset":
            self.state.call(route, "fault:reset", key, request.arrived)
            await asyncio.sleep(fault.delay)
            _reset(request.transport)
            return "aborted"
        if fault.errcode is not None:
            self.state.call(route, f"fault:errcode_{fault.errcode}", key, request.arrived)
            return JSONResponse({"errcode": fault.errcode, "errmsg": f"injected errcode {fault.errcode}"})
        assert isinstance(fault.status, int)
        self.state.call(route, f"fault:{fault.status}", key, request.arrived)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        body = fault.body
        if body is None:
            body = {"error": "invalid_number"} if fault.status == 400 else {"error": f"injected_{fault.status}"}
        return JSONResponse(body, status_code=fault.status, headers=headers)

    # -- SMS gateway ----------------------------------------------------------------------------------------
    async def sms(self, request: Request) -> Response | None:
        body = await _json(request)
        key = request.headers.get("idempotency-key") or str(body.get("client_ref") or "")
        if self.sms_auth is not None and request.headers.get("authorization") != self.sms_auth:
            self.state.call("sms", "rejected:401", key, request.arrived)
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        to = str(body.get("to") or "")

        def accept() -> tuple[dict[str, Any], bool]:
            return self.state.accept(
                "sms", key, to, body, lambda n: {"message_id": f"sms-{n}", "status": "queued"}, request.arrived
            )

        if (faulted := await self._fault(request, "sms", key, accept)) is not None:
            return None if faulted == "aborted" else faulted
        if not _E164.fullmatch(to):
            self.state.call("sms", "rejected:invalid_number", key, request.arrived)
            return JSONResponse({"error": "invalid_number", "message": f"{to!r} is not E.164"}, status_code=400)
        if not body.get("text"):
            self.state.call("sms", "rejected:empty_text", key, request.arrived)
            return JSONResponse({"error": "empty_text"}, status_code=400)
        answer, duplicate = accept()
        self.state.call("sms", "duplicate" if duplicate else "accepted", key, request.arrived)
        return JSONResponse(answer)

    # -- WeChat Official Account ----------------------------------------------------------------------------
    async def wechat_token(self, request: Request) -> Response | None:
        query = request.query_params
        if (faulted := await self._fault(request, "wechat_token", "", lambda: None)) is not None:
            return None if faulted == "aborted" else faulted
        if query.get("grant_type") != "client_credential":
            self.state.call("wechat_token", "rejected:40002", "", request.arrived)
            return JSONResponse({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.appid:
            self.state.call("wechat_token", "rejected:40013", "", request.arrived)
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != self.app_secret:
            self.state.call("wechat_token", "rejected:40125", "", request.arrived)
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.state.call("wechat_token", "issued", "", request.arrived)
        return JSONResponse({"access_token": self.state.issue_token(), "expires_in": int(self.state.token_ttl_s)})

    async def wechat_send(self, request: Request) -> Response | None:
        body = await _json(request)
        touser = str(body.get("touser") or "")
        client_msg_id = str(body.get("client_msg_id") or "")
        key = f"{touser}:{client_msg_id}" if client_msg_id else ""
        errcode = self.state.token_errcode(request.query_params.get("access_token", ""))
        if errcode:
            self.state.call("wechat_send", f"rejected:{errcode}", key, request.arrived)
            message = "access_token expired" if errcode == 42001 else "invalid credential, access_token is invalid"
            return JSONResponse({"errcode": errcode, "errmsg": message})

        def accept() -> tuple[dict[str, Any], bool]:
            return self.state.accept(
                "wechat",
                key,
                touser,
                body,
                lambda n: {"errcode": 0, "errmsg": "ok", "msgid": 200_000 + n},
                request.arrived,
            )

        if (faulted := await self._fault(request, "wechat_send", key, accept)) is not None:
            return None if faulted == "aborted" else faulted
        refusal = None
        if not _OPENID.fullmatch(touser):
            refusal = (40003, "invalid openid")
        elif not body.get("template_id"):
            refusal = (40037, "invalid template_id")
        elif touser in self.state.unsubscribed_openids:
            refusal = (43004, "require subscribe")
        if refusal is not None:
            self.state.call("wechat_send", f"rejected:{refusal[0]}", key, request.arrived)
            return JSONResponse({"errcode": refusal[0], "errmsg": refusal[1]})
        answer, duplicate = accept()
        self.state.call("wechat_send", "duplicate" if duplicate else "accepted", key, request.arrived)
        return JSONResponse(answer)

    # -- the chain's app ------------------------------------------------------------------------------------
    async def webhook(self, request: Request) -> Response | None:
        raw = await request.body()
        try:
            verify_hmac(
                self.webhook_secret,
                request.headers.get("x-memberpulse-timestamp"),
                request.headers.get("x-memberpulse-signature"),
                raw,
                now=datetime.now(UTC),
                window_s=REPLAY_WINDOW_S,
            )
        except Unauthenticated as exc:
            self.state.call("webhook", "rejected:401", request.headers.get("idempotency-key", ""), request.arrived)
            return JSONResponse({"error": "unauthenticated", "message": str(exc)}, status_code=401)
        body = _loads(raw)
        key = request.headers.get("idempotency-key") or str(body.get("id") or "")

        def accept() -> tuple[dict[str, Any], bool]:
            return self.state.accept(
                "webhook",
                key,
                str(body.get("to") or ""),
                body,
                lambda n: {"id": f"wh-{n}", "received": True},
                request.arrived,
            )

        if (faulted := await self._fault(request, "webhook", key, accept)) is not None:
            return None if faulted == "aborted" else faulted
        answer, duplicate = accept()
        self.state.call("webhook", "duplicate" if duplicate else "accepted", key, request.arrived)
        return JSONResponse(answer)

    # -- control API (the same in-process and as a separate process) ---------------------------------------
    async def control_deliveries(self, request: Request) -> Response:
        return JSONResponse(self.state.snapshot(int(request.query_params.get("since", 0))))

    async def control_calls(self, request: Request) -> Response:
        return JSONResponse(self.state.calls_snapshot(int(request.query_params.get("since", 0))))

    async def control_stats(self, request: Request) -> Response:
        stats = self.state.stats()
        if self.mail is not None:
            stats["smtp"] = {"messages": len(self.mail.messages), "duplicates": self.mail.duplicates}
        return JSONResponse(stats)

    async def control_faults(self, request: Request) -> Response:
        spec = await _json(request)
        route = str(spec.pop("route"))
        n = int(spec.pop("n", 1))
        try:
            self.state.fail_next(route, n, Fault(**spec))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"queued": n})

    async def control_reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True})

    async def control_expire(self, request: Request) -> Response:
        self.state.expire_tokens()
        return JSONResponse({"expired": True})

    async def control_unsubscribed(self, request: Request) -> Response:
        openids = (await _json(request)).get("openids", [])
        self.state.unsubscribed_openids.update(str(o) for o in openids)
        return JSONResponse({"unsubscribed": len(openids)})


async def _json(request: Request) -> dict[str, Any]:
    return _loads(await request.body())


def _loads(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reset(transport: asyncio.Transport) -> None:
    """Close with an RST (linger 0), not a polite FIN: the client sees "connection reset by peer"."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and Nagle costs 40 ms a call.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class ProviderSink:
    """The HTTP provider sink; ``start()`` runs it in a background thread, ``serve()`` in the current loop."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
        sms_auth: str | None = SMS_AUTH,
        wechat_appid: str = WECHAT_APPID,
        wechat_secret: str = WECHAT_SECRET,
        webhook_secret: str = WEBHOOK_SECRET,
        token_ttl_s: float = 7200.0,
    ) -> None:
        self.state = SinkState(state_file=state_file, token_ttl_s=token_ttl_s)
        self._routes = _SinkApp(
            self.state, sms_auth=sms_auth, appid=wechat_appid, app_secret=wechat_secret, webhook_secret=webhook_secret
        )
        self._socket = _listen(host, port)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[_HttpConnection] = set()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # -- where things are -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def sms_url(self) -> str:
        return f"{self.url}/sms/send"

    @property
    def wechat_base_url(self) -> str:
        return self.url

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    # -- running --------------------------------------------------------------------------------------------
    async def serve(self) -> None:
        """Serve in the running loop until ``stop()``."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await self._loop.create_server(
            lambda: _HttpConnection(self._routes.dispatch, self._connections), sock=self._socket, backlog=2048
        )
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for connection in list(self._connections):
                connection.abort()
            await server.wait_closed()
            self.state.close()

    def start(self) -> ProviderSink:
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), name="provider-sink", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("provider sink did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> ProviderSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what it saw ----------------------------------------------------------------------------------------
    @property
    def deliveries(self) -> list[Delivery]:
        with self.state._lock:
            return list(self.state.deliveries)

    def deliveries_for(self, channel: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.channel == channel]

    @property
    def duplicates_absorbed(self) -> int:
        return self.state.duplicates_absorbed

    @property
    def calls(self) -> dict[str, int]:
        with self.state._lock:
            return dict(self.state.calls)

    @property
    def call_log(self) -> list[Call]:
        with self.state._lock:
            return list(self.state.call_log)

    # -- what it will do ------------------------------------------------------------------------------------
    def fail_next(
        self,
        route: str,
        n: int = 1,
        status: FaultKind = 500,
        *,
        retry_after: float | str | None = None,
        delay_s: float | None = None,
        body: dict[str, Any] | None = None,
        errcode: int | None = None,
        processed: bool = False,
    ) -> None:
        self.state.fail_next(route, n, Fault(status, retry_after, delay_s, body, errcode, processed))

    def expire_tokens(self) -> None:
        """Every token issued so far answers errcode 40001 from now on (as after a secret reset)."""
        self.state.expire_tokens()

    def unsubscribe_openid(self, *openids: str) -> None:
        """These WeChat users no longer follow the account: sends to them answer errcode 43004."""
        with self.state._lock:
            self.state.unsubscribed_openids.update(openids)

    def reset(self) -> None:
        self.state.reset()


class SinkClient:
    """Drives a sink over its control API: for a sink running as a separate process."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=10)

    def deliveries(self, since: int = 0) -> list[dict[str, Any]]:
        deliveries: list[dict[str, Any]] = self._http.get("/_sink/deliveries", params={"since": since}).json()[
            "deliveries"
        ]
        return deliveries

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self._http.get("/_sink/calls", params={"since": since}).json()["calls"]
        return calls

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self._http.get("/_sink/stats").json()
        return stats

    def fail_next(self, route: str, n: int = 1, status: FaultKind = 500, **options: Any) -> None:
        self._http.post("/_sink/faults", json={"route": route, "n": n, "status": status, **options}).raise_for_status()

    def expire_tokens(self) -> None:
        self._http.post("/_sink/expire_tokens").raise_for_status()

    def unsubscribe_openid(self, *openids: str) -> None:
        self._http.post("/_sink/wechat_unsubscribed", json={"openids": list(openids)}).raise_for_status()

    def reset(self) -> None:
        self._http.post("/_sink/reset").raise_for_status()

    def close(self) -> None:
        self._http.close()


class SinkProcess:
    """The provider sink as its own process, so it lives on while the service under test is SIGKILLed."""

    def __init__(self, state_file: Path, *, port: int = 0, args: tuple[str, ...] = ()) -> None:
        self.state_file = state_file
        self._argv = [
            sys.executable,
            "-m",
            "tools.provider_sinks",
            "--port",
            str(port),
            "--state-file",
            str(state_file),
            *args,
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.client: SinkClient | None = None

    def start(self, timeout_s: float = 20.0) -> SinkProcess:
        self.proc = subprocess.Popen(self._argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready: dict[str, Any] = {}
        reader = threading.Thread(target=lambda: ready.update(json.loads(self.proc.stdout.readline() or "{}")))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout_s)
        if "url" not in ready:
            self.stop()
            raise RuntimeError("provider sink process did not report ready")
        self.url = str(ready["url"])
        self.client = SinkClient(self.url)
        return self

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> SinkProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- SMTP ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage
    tls: bool
    t_mono: float
    t_wall: float

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))


_SMTP_REPLIES = {
    421: "421 4.3.2 Service not available, closing transmission channel",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    552: "552 5.3.4 Message size exceeds fixed limit",
    554: "554 5.7.1 Message rejected",
}


@dataclass
class _SmtpFault:
    code: int
    stage: Literal["rcpt", "data"]


@dataclass
class _SmtpHandler:
    messages: list[ReceivedMail] = field(default_factory=list)
    faults: deque[_SmtpFault] = field(default_factory=deque)
    sessions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _fault(self, stage: str) -> str | None:
        with self.lock:
            if self.faults and self.faults[0].stage == stage:
                code = self.faults.popleft().code
                return _SMTP_REPLIES.get(code, f"{code} Injected failure")
        return None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if (reply := self._fault("rcpt")) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if (reply := self._fault("data")) is not None:
            return reply
        raw = envelope.original_content or (
            envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        )
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        mail = ReceivedMail(
            str(envelope.mail_from),
            list(envelope.rcpt_tos),
            raw,
            parsed,
            session.ssl is not None,
            time.monotonic(),
            time.time(),
        )
        with self.lock:
            self.messages.append(mail)
        return "250 2.0.0 Message accepted for delivery"


class _EphemeralController(Controller):
    """aiosmtpd's thread controller, listening on a port the kernel picks."""

    def _create_server(self) -> Any:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port)
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class SmtpSink:
    """An SMTP server with STARTTLS (certificate from a throwaway CA) that records what it accepts."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        require_starttls: bool = False,
        credentials: tuple[str, str] | None = None,
        cert_dir: Path | None = None,
    ) -> None:
        self._ca = trustme.CA()
        server_cert = self._ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_cert.configure_cert(context)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if cert_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smtp-sink-")
            cert_dir = Path(self._tmp.name)
        self.ca_file = cert_dir / "smtp-sink-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self.handler = _SmtpHandler()
        self.host = host
        options: dict[str, Any] = {}
        if credentials is not None:
            expected = (credentials[0].encode(), credentials[1].encode())

            def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> Any:
                ok = isinstance(data, LoginPassword) and (data.login, data.password) == expected
                return AuthResult(success=ok)

            options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": True}
        self._controller = _EphemeralController(
            self.handler,
            hostname=host,
            port=port,
            tls_context=context,
            require_starttls=require_starttls,
            enable_SMTPUTF8=True,
            **options,
        )

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def duplicates(self) -> int:
        """Messages whose Message-ID arrived before: SMTP servers do not dedupe, so this counts resends."""
        ids = [m.message_id for m in self.messages]
        return len(ids) - len(set(ids))

    def fail_next(self, n: int = 1, code: int = 451, *, stage: Literal["rcpt", "data"] = "data") -> None:
        with self.handler.lock:
            self.handler.faults.extend(_SmtpFault(code, stage) for _ in range(n))

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()
            self.handler.faults.clear()


@contextlib.contextmanager
def running_sinks() -> Iterator[tuple[ProviderSink, SmtpSink]]:
    with ProviderSink() as http_sink, SmtpSink() as smtp_sink:
        yield http_sink, smtp_sink


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local provider sink: SMS gateway, WeChat API and webhook receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file", type=Path, default=None)
    parser.add_argument("--sms-auth", default=SMS_AUTH)
    parser.add_argument("--wechat-appid", default=WECHAT_APPID)
    parser.add_argument("--wechat-secret", default=WECHAT_SECRET)
    parser.add_argument("--webhook-secret", default=WEBHOOK_SECRET)
    parser.add_argument("--token-ttl", type=float, default=7200.0)
    parser.add_argument("--smtp-port", type=int, default=None, help="also serve SMTP (STARTTLS offered) here")
    parser.add_argument("--cert-dir", type=Path, default=None, help="where the SMTP sink writes its CA certificate")
    args = parser.parse_args(argv)
    sink = ProviderSink(
        host=args.host,
        port=args.port,
        state_file=args.state_file,
        sms_auth=args.sms_auth or None,
        wechat_appid=args.wechat_appid,
        wechat_secret=args.wechat_secret,
        webhook_secret=args.webhook_secret,
        token_ttl_s=args.token_ttl,
    )

    mail = None
    if args.smtp_port is not None:
        mail = SmtpSink(host=args.host, port=args.smtp_port, cert_dir=args.cert_dir).start()
        sink._routes.mail = mail

    async def run() -> None:
        serving = asyncio.create_task(sink.serve())
        # _started is a threading.Event (the sink can also run in its own thread), so it is polled.
        while not sink._started.is_set() and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, sink.stop)
        where: dict[str, Any] = {"url": sink.url, "port": sink.port, "pid": os.getpid()}
        if mail is not None:
            where |= {"smtp_port": mail.port, "smtp_ca_file": str(mail.ca_file)}
        print(json.dumps(where), flush=True)
        await serving

    try:
        asyncio.run(run())
    finally:
        if mail is not None:
            mail.stop()


if __name__ == "__main__":
    main()
