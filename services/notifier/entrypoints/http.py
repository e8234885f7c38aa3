"""notifier's HTTP API: what members and the SMS gateway send back, and contact management.

- ``POST /v1/inbound/sms`` and ``POST /v1/receipts/sms``: the SMS gateway's callbacks, signed with
  ``MP_NOTIFIER_INBOUND_SECRET`` (the shared ``X-MemberPulse-Signature`` scheme). Unset, they answer
  503: closed by default.
- ``GET|POST /v1/unsubscribe/{token}``: the link in marketing messages; the signed token is the
  credential, and it works once. POST is RFC 8058 one-click (``List-Unsubscribe-Post``).
- ``PUT /v1/contacts/{member_id}``, ``GET /v1/sends/{offer_id}``: management, bearer token.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from services.notifier.adapters import contact_repository
from services.notifier.domain import unsubscribe
from services.notifier.domain.messages import Contact
from services.notifier.entrypoints.settings import NotifierSettings
from services.notifier.service_layer.inbound import (
    SmsReply,
    TokenSpent,
    record_receipt,
    record_sms_reply,
    unsubscribe_by_link,
)
from shared import phones
from shared.contracts import Channel
from shared.observability.management import require_management_token
from shared.settings import HttpSettings
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, Unauthenticated, verify_hmac

MAX_CALLBACK_BYTES = 64 * 1024
DELIVERED_WORDS = frozenset({"delivered", "delivrd", "success", "ok"})


class InboundSms(BaseModel):
    from_: str = Field(alias="from", min_length=3, max_length=32)
    text: str = Field(max_length=2000)
    received_at: AwareDatetime | None = None
    message_id: str | None = Field(default=None, max_length=128)


class SmsReceipt(BaseModel):
    message_id: str = Field(min_length=1, max_length=128)
    status: str = Field(min_length=1, max_length=32)
    error_code: str | None = Field(default=None, max_length=64)
    at: AwareDatetime | None = None


class ContactBody(BaseModel):
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    wechat_openid: str | None = Field(default=None, max_length=128)
    app_user_id: str | None = Field(default=None, max_length=128)
    locale: str | None = Field(default=None, max_length=35)
    time_zone: str | None = Field(default=None, max_length=64)


def install(app: FastAPI, *, pool: Any, settings: NotifierSettings, http: HttpSettings) -> None:
    public = APIRouter(prefix="/v1")
    managed = APIRouter(prefix="/v1", dependencies=[Depends(require_management_token(http.management_token))])

    async def signed_body(request: Request) -> bytes:
        if settings.inbound_secret is None:
            raise HTTPException(503, "inbound callbacks disabled: set MP_NOTIFIER_INBOUND_SECRET")
        body = await request.body()
        if len(body) > MAX_CALLBACK_BYTES:
            raise HTTPException(413, f"body larger than {MAX_CALLBACK_BYTES} bytes")
        try:
            verify_hmac(
                settings.inbound_secret.get_secret_value().encode(),
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                body,
                now=datetime.now(UTC),
                window_s=settings.inbound_window_seconds,
            )
        except Unauthenticated as exc:
            raise HTTPException(401, str(exc)) from None
        return body

    @public.post("/inbound/sms")
    async def inbound_sms(request: Request) -> dict[str, Any]:
        inbound = _parse(InboundSms, await signed_body(request))
        phone = _e164(inbound.from_, settings.default_phone_region)
        reply = SmsReply(phone, inbound.text, inbound.received_at or datetime.now(UTC), inbound.message_id)
        result, members = await record_sms_reply(pool, reply)
        return {"result": result.value, "members": members}

    @public.post("/receipts/sms")
    async def sms_receipt(request: Request) -> dict[str, Any]:
        receipt = _parse(SmsReceipt, await signed_body(request))
        delivered = receipt.status.strip().lower() in DELIVERED_WORDS
        at = receipt.at or datetime.now(UTC)
        applied = await record_receipt(pool, Channel.SMS, receipt.message_id, delivered, at, receipt.error_code)
        return {"applied": applied}

    async def unsubscribe_link(token: str) -> HTMLResponse:
        if settings.unsubscribe_secret is None:
            raise HTTPException(503, "unsubscribe links disabled: set MP_NOTIFIER_UNSUBSCRIBE_SECRET")
        secret = settings.unsubscribe_secret.get_secret_value().encode()
        try:
            claim = await unsubscribe_by_link(pool, secret, token, datetime.now(UTC))
        except unsubscribe.InvalidToken as exc:
            return _page(400, "This link is not valid", str(exc))
        except TokenSpent:
            return _page(410, "Already unsubscribed", "This link was used before; you will not get these messages.")
        return _page(200, "Unsubscribed", f"You will no longer get marketing messages by {claim.channel.value}.")

    public.add_api_route("/unsubscribe/{token}", unsubscribe_link, methods=["GET", "POST"])

    @managed.put("/contacts/{member_id}")
    async def put_contact(member_id: str, body: ContactBody) -> dict[str, Any]:
        phone = _e164(body.phone, settings.default_phone_region) if body.phone else None
        contact = Contact(member_id=member_id, **{**body.model_dump(), "phone": phone})
        async with pool.acquire() as conn:
            await contact_repository.upsert_contacts(conn, [contact])
        return {"member_id": member_id, "channels": [c.value for c in Channel if contact.address(c)]}

    @managed.get("/sends/{offer_id}")
    async def get_sends(offer_id: str) -> list[dict[str, Any]]:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT channel, status, attempts, due_at, provider_message_id, error_code, error_message,
                          created_at, sent_at
                   FROM sends WHERE offer_id = $1 ORDER BY created_at""",
                offer_id,
            )
        if not rows:
            raise HTTPException(404, f"no sends for offer {offer_id!r}")
        return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()} for r in rows]

    app.include_router(public)
    app.include_router(managed)


def _parse(model: type[Any], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise HTTPException(422, errors) from None


def _e164(raw: str, region: str) -> str:
    try:
        return phones.e164(raw, region)
    except phones.InvalidPhone as exc:
        raise HTTPException(422, str(exc)) from None


def _page(status: int, title: str, text: str) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)
