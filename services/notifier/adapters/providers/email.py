"""Email channel: SMTP with STARTTLS, a proper MIME multipart and one-click unsubscribe.

The message is ``multipart/alternative`` (text/plain, then text/html when there is HTML), UTF-8 in
quoted-printable or base64 so it survives servers without 8BITMIME; the Subject and display names are RFC 2047
encoded by the ``email`` package. ``Message-ID`` is derived from the idempotency key, so a resend after a crash
carries the same id and receiving systems can fold the two. Marketing must carry ``List-Unsubscribe`` with
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): without an unsubscribe URL it is refused here,
permanently, rather than sent non-compliant. Right-to-left locales get ``dir="rtl"`` on the HTML body.

SMTP sessions are pooled (``max_connections``) and reused for consecutive messages; one idle longer than
``idle_s`` is closed instead, since servers drop idle clients. Replies: 4xx, timeouts and dropped connections are
transient (``smtp_451``, ``timeout``, ``connection_error``); 5xx is permanent (``smtp_550``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import hashlib
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from services.notifier.adapters.providers.base import SmtpSettings
from services.notifier.adapters.providers.http_errors import truncate
from services.notifier.domain.messages import Accepted, Failure, FailureKind, RenderedMessage, SendResult
from shared.contracts import Channel, MessageType

# 7bit forces quoted-printable or base64 bodies: safe on servers that do not announce 8BITMIME.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")
_UTF8_POLICY = email.policy.SMTPUTF8
_BODY = re.compile(r"<body\b([^>]*)>", re.IGNORECASE)
_HAS_DIR = re.compile(r"\bdir\s*=", re.IGNORECASE)


def message_id(idempotency_key: str, domain: str) -> str:
    if not idempotency_key:
        return make_msgid(domain=domain)
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def rtl_html(html: str) -> str:
    """The HTML with ``dir="rtl"`` on its body, or wrapped in an RTL div when it is a fragment."""
    match = _BODY.search(html)
    if match is None:
        return f'<div dir="rtl">{html}</div>'
    if _HAS_DIR.search(match.group(1)):
        return html
    return f'{html[: match.start()]}<body dir="rtl"{match.group(1)}>{html[match.end() :]}'


def _address(text: str, display_name: str | None) -> Address | str:
    if not display_name:
        return text
    username, _, domain = text.rpartition("@")
    return Address(display_name=display_name, username=username, domain=domain)


@dataclass
class _Session:
    smtp: aiosmtplib.SMTP
    last_used: float


class SmtpEmail:
    channel = Channel.EMAIL

    def __init__(self, settings: SmtpSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = settings.name
        self._settings = settings
        self._domain = settings.from_address.rpartition("@")[2] or "localhost"
        self._clock = clock
        self._tls_context = ssl.create_default_context(cafile=str(settings.ca_file)) if settings.ca_file else None
        self._slots = asyncio.Semaphore(settings.max_connections)
        self._idle: list[_Session] = []
        self.connects = 0

    def build(self, message: RenderedMessage) -> EmailMessage:
        mime = EmailMessage(policy=_POLICY)
        mime["From"] = _address(self._settings.from_address, self._settings.from_name)
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(usegmt=True)
        mime["Message-ID"] = message_id(message.idempotency_key, self._domain)
        if message.unsubscribe_url:
            mime["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mime.set_content(message.text, charset="utf-8")
        if message.html is not None:
            html = rtl_html(message.html) if message.direction == "rtl" else message.html
            mime.add_alternative(html, subtype="html", charset="utf-8")
        # Last: set_content and add_alternative move or drop Content-* headers set before them.
        mime["Content-Language"] = message.locale
        return mime

    async def send(self, message: RenderedMessage) -> SendResult:
        if message.message_type is MessageType.MARKETING and not message.unsubscribe_url:
            return Failure(FailureKind.PERMANENT, "missing_unsubscribe", "marketing email needs an unsubscribe URL")
        international = not message.to.isascii()
        try:
            mime = self.build(message)
            data = mime.as_bytes(policy=_UTF8_POLICY if international else _POLICY)
        except (ValueError, TypeError, IndexError) as exc:  # an address or header the email package refuses
            return Failure(FailureKind.PERMANENT, "invalid_message", truncate(f"{type(exc).__name__}: {exc}"))
        options = ["SMTPUTF8"] if international else []
        async with self._slots:
            session: _Session | None = None
            try:
                session = await self._session()
                await session.smtp.sendmail(
                    self._settings.from_address,
                    [message.to],
                    data,
                    mail_options=options,
                    timeout=self._settings.timeout_s,
                )
            except Exception as exc:  # every SMTP, TLS and socket error becomes a Failure
                failure = classify_smtp_error(exc)
                if session is not None:
                    # After a refusal the client has reset the transaction: the session is still good.
                    self._release(session, keep=isinstance(exc, _REFUSALS))
                return failure
            self._release(session, keep=True)
        return Accepted(str(mime["Message-ID"]))

    async def _session(self) -> _Session:
        now = self._clock()
        while self._idle:
            session = self._idle.pop()
            if session.smtp.is_connected and now - session.last_used <= self._settings.idle_s:
                return session
            _drop(session.smtp)
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password else None,
            timeout=settings.timeout_s,
            use_tls=settings.use_tls,
            start_tls=False if settings.use_tls else (None if settings.starttls == "auto" else settings.starttls),
            validate_certs=settings.validate_certs,
            tls_context=self._tls_context,
        )
        self.connects += 1
        try:
            await smtp.connect()
        except BaseException:
            _drop(smtp)
            raise
        return _Session(smtp, now)

    def _release(self, session: _Session, *, keep: bool) -> None:
        if keep and session.smtp.is_connected:
            session.last_used = self._clock()
            self._idle.append(session)
        else:
            _drop(session.smtp)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for session in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.smtp.quit(), self._settings.timeout_s)
            _drop(session.smtp)


_REFUSALS = (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused)


def _drop(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        smtp.close()


def classify_smtp_error(exc: BaseException) -> Failure:
    detail = truncate(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts subclass it
        return Failure(FailureKind.TRANSIENT, "timeout", detail)
    code: int | None = None
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
    if code is not None and 500 <= code < 600:
        return Failure(FailureKind.PERMANENT, f"smtp_{code}", detail)
    if code is not None and 400 <= code < 500:
        return Failure(FailureKind.TRANSIENT, f"smtp_{code}", detail)
    if isinstance(exc, ValueError):  # aiosmtplib refuses an address that cannot be sent safely
        return Failure(FailureKind.PERMANENT, "invalid_address", detail)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # STARTTLS required but not offered, or SMTPUTF8 needed: this server cannot take it as configured.
        return Failure(FailureKind.PERMANENT, "smtp_not_supported", detail)
    return Failure(FailureKind.TRANSIENT, "connection_error", detail)
