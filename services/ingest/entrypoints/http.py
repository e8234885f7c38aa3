"""ingest's HTTP API: signed event batches and the WeChat Official Account callback.

Requests that fail authentication, or replay one already accepted, are refused with a clear
status and nothing of them is stored. Authenticated input is published to the raw topics
(and refused events to the DLQ) before the response, so a 202 means it is safely in Kafka.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from services.ingest.adapters import metrics, repository
from services.ingest.adapters.raw_publisher import raw_record
from services.ingest.adapters.raw_records import parse_body
from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.normalise import PARSERS
from services.ingest.domain.signatures import Unauthenticated, verify_hmac, verify_wechat
from services.ingest.entrypoints.settings import IngestSettings
from shared.contracts import KafkaRecord, SourceFormat
from shared.contracts.topics import INGEST_DLQ
from shared.kafka.producer import send_all
from shared.kafka.records import request_dead_letter
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

REQUEST_ID_HEADER = "X-Request-Id"


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def install(app: FastAPI, *, settings: IngestSettings, pool: Any, producer: AIOKafkaProducer) -> None:
    api = IngestApi(settings, pool, producer)
    router = APIRouter()
    router.add_api_route("/v1/events/{source}", api.post_events, methods=["POST"], status_code=202)
    router.add_api_route("/v1/wechat/{account}", api.wechat_echo, methods=["GET"])
    router.add_api_route("/v1/wechat/{account}", api.wechat_push, methods=["POST"])
    app.include_router(router)


class IngestApi:
    def __init__(self, settings: IngestSettings, pool: Any, producer: AIOKafkaProducer) -> None:
        self._settings = settings
        self._parser = settings.parser()  # once, not per event
        self._pool = pool
        self._producer = producer

    async def post_events(self, source: str, request: Request) -> Response:
        request_id = request.headers.get(REQUEST_ID_HEADER) or str(uuid.uuid4())
        route = "/v1/events"
        try:
            secret = self._settings.webhook_secrets.get(source)
            if source not in PARSERS or secret is None:
                raise Refused(404, "unknown_source", f"no webhook is configured for source {source!r}")
            body = await self._body(request)
            signature = request.headers.get(SIGNATURE_HEADER)
            verify_hmac(
                secret.get_secret_value().encode(),
                request.headers.get(TIMESTAMP_HEADER),
                signature,
                body,
                now=datetime.now(UTC),
                window_s=self._window,
            )
        except Unauthenticated as exc:
            return _refusal(route, request_id, Refused(401, "unauthenticated", str(exc)))
        except Refused as refused:
            return _refusal(route, request_id, refused)
        assert signature is not None
        try:
            events = self._events(body)
        except Refused as refused:
            # Authenticated but unreadable: kept in the DLQ like any other bad input.
            letter = self._letter(f"{route}/{source}", request_id, source, body, "invalid_json", refused.message)
            async with self._pool.acquire() as conn, conn.transaction():
                if not await repository.remember_request(conn, source, signature, self._window):
                    return _refusal(route, request_id, _REPLAYED)
                await send_all(self._producer, [letter])
            return _refusal(route, request_id, refused)

        results: list[dict[str, Any]] = []
        outgoing: list[KafkaRecord] = []
        for index, event_body in enumerate(events):
            try:
                parsed = parse_body(source, event_body, self._parser)
            except InvalidRecord as exc:
                results.append({"index": index, "status": "rejected", "code": exc.code, "message": exc.message})
                outgoing.append(
                    self._letter(f"{route}/{source}", request_id, source, event_body, exc.code, exc.message)
                )
                continue
            results.append({"index": index, "status": "accepted"})
            outgoing.append(raw_record(source, event_body, parsed, (("mp-request-id", request_id.encode()),)))
        async with self._pool.acquire() as conn, conn.transaction():
            # The signature is committed only once Kafka has everything, so a failed request may be retried.
            if not await repository.remember_request(conn, source, signature, self._window):
                return _refusal(route, request_id, _REPLAYED)
            await send_all(self._producer, outgoing)
        accepted = sum(1 for r in results if r["status"] == "accepted")
        metrics.HTTP_REQUESTS.labels(route, "accepted").inc()
        metrics.HTTP_EVENTS.labels(source, "accepted").inc(accepted)
        metrics.HTTP_EVENTS.labels(source, "rejected").inc(len(results) - accepted)
        return JSONResponse(
            {"request_id": request_id, "accepted": accepted, "rejected": len(results) - accepted, "results": results},
            status_code=202,
            headers={REQUEST_ID_HEADER: request_id},
        )

    async def wechat_echo(self, account: str, request: Request) -> Response:
        """WeChat's server check: echo ``echostr`` back when the signature proves the shared token."""
        request_id = str(uuid.uuid4())
        try:
            self._verify_wechat(account, request)
        except Refused as refused:
            return _refusal("/v1/wechat", request_id, refused)
        metrics.HTTP_REQUESTS.labels("/v1/wechat", "echo").inc()
        return PlainTextResponse(request.query_params.get("echostr", ""))

    async def wechat_push(self, account: str, request: Request) -> Response:
        request_id = request.headers.get(REQUEST_ID_HEADER) or str(uuid.uuid4())
        route = "/v1/wechat"
        try:
            self._verify_wechat(account, request)
            body = await self._body(request)
        except Refused as refused:
            return _refusal(route, request_id, refused)
        fmt = SourceFormat.WECHAT_OA.value
        try:
            parsed = parse_body(fmt, body, self._parser)
            record = raw_record(fmt, body, parsed, (("mp-request-id", request_id.encode()),))
            outcome = "accepted"
        except InvalidRecord as exc:
            # WeChat retries what it sees fail, which cannot help bad input: keep it and answer success.
            record = self._letter(f"{route}/{account}", request_id, fmt, body, exc.code, exc.message)
            outcome = "rejected"
        signature = f"{request.query_params.get('signature')}:{request.query_params.get('nonce')}"
        async with self._pool.acquire() as conn, conn.transaction():
            if not await repository.remember_request(conn, f"wechat:{account}", signature, self._window):
                return _refusal(route, request_id, _REPLAYED)
            await send_all(self._producer, [record])
        metrics.HTTP_REQUESTS.labels(route, outcome).inc()
        metrics.HTTP_EVENTS.labels(fmt, outcome).inc()
        return PlainTextResponse("success", headers={REQUEST_ID_HEADER: request_id})

    @property
    def _window(self) -> int:
        return self._settings.replay_window_seconds

    def _verify_wechat(self, account: str, request: Request) -> None:
        token = self._settings.wechat_tokens.get(account)
        if token is None:
            raise Refused(404, "unknown_account", f"no WeChat account {account!r} is configured")
        query = request.query_params
        try:
            verify_wechat(
                token.get_secret_value(),
                query.get("signature"),
                query.get("timestamp"),
                query.get("nonce"),
                now=datetime.now(UTC),
                window_s=self._window,
            )
        except Unauthenticated as exc:
            raise Refused(401, "unauthenticated", str(exc)) from None

    async def _body(self, request: Request) -> bytes:
        limit = self._settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Refused(413, "too_large", f"body of {declared} bytes exceeds the limit of {limit}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refused(413, "too_large", f"body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _events(self, body: bytes) -> list[bytes]:
        """The batch's events, each re-encoded alone; text survives exactly (JSON escapes round-trip)."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise Refused(400, "invalid_json", f"body is not JSON: {exc}") from None
        events = payload.get("events") if isinstance(payload, dict) else payload
        if not isinstance(events, list):
            raise Refused(400, "invalid_json", 'body must be a JSON array of events or {"events": [...]}')
        if len(events) > self._settings.max_events_per_request:
            raise Refused(413, "too_many_events", f"at most {self._settings.max_events_per_request} events per request")
        # surrogatepass: a lone surrogate in a JSON string becomes invalid UTF-8, rejected per event.
        return [
            json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
            for event in events
        ]

    def _letter(self, route: str, request_id: str, source: str, body: bytes, code: str, message: str) -> KafkaRecord:
        return request_dead_letter(
            "ingest",
            INGEST_DLQ.name,
            route=route,
            request_id=request_id,
            source=source,
            body=body,
            code=code,
            message=message,
        )


_REPLAYED = Refused(409, "replayed", "this request was already accepted (same signature inside the replay window)")


def _refusal(route: str, request_id: str, refused: Refused) -> JSONResponse:
    metrics.HTTP_REQUESTS.labels(route, refused.code).inc()
    return JSONResponse(
        {"request_id": request_id, "error": refused.code, "message": refused.message},
        status_code=refused.status,
        headers={REQUEST_ID_HEADER: request_id},
    )
