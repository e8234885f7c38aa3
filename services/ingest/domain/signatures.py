"""Webhook authentication: HMAC-SHA256 over timestamp and body for our API, sha1 for WeChat's callback."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_PREFIX = "sha256="


class Unauthenticated(Exception):
    """The request is not provably from the configured sender, or is stale: nothing of it is stored."""


def hmac_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """What a sender puts in ``X-MemberPulse-Signature``: HMAC-SHA256 of ``"<timestamp>." + body``."""
    return SIGNATURE_PREFIX + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_hmac(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, *, now: datetime, window_s: int
) -> None:
    if not timestamp or not signature:
        raise Unauthenticated("X-MemberPulse-Timestamp and X-MemberPulse-Signature headers are required")
    check_timestamp(timestamp, now=now, window_s=window_s)
    if not hmac.compare_digest(hmac_signature(secret, timestamp, body), signature.strip()):
        raise Unauthenticated("signature does not match the body")


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's own check: sha1 of token, timestamp and nonce sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's protocol


def verify_wechat(
    token: str, signature: str | None, timestamp: str | None, nonce: str | None, *, now: datetime, window_s: int
) -> None:
    if not signature or not timestamp or not nonce:
        raise Unauthenticated("signature, timestamp and nonce query parameters are required")
    if not hmac.compare_digest(wechat_signature(token, timestamp, nonce), signature):
        raise Unauthenticated("signature does not match")
    check_timestamp(timestamp, now=now, window_s=window_s)


def check_timestamp(timestamp: str, *, now: datetime, window_s: int) -> None:
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthenticated("timestamp must be unix seconds")
    if abs(now.timestamp() - int(timestamp)) > window_s:
        raise Unauthenticated(f"timestamp is outside the {window_s}s replay window")
