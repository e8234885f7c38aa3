"""Signed HTTP between MemberPulse and its neighbours: one scheme for every direction.

A sender puts ``X-MemberPulse-Timestamp`` (unix seconds) and ``X-MemberPulse-Signature``
(``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>." + body``) on the request. Ingest verifies
upstream webhooks with it, the notifier signs what it posts to a chain's app and verifies the
SMS gateway's callbacks with it. The timestamp bounds replays to a window.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_PREFIX = "sha256="
TIMESTAMP_HEADER = "X-MemberPulse-Timestamp"
SIGNATURE_HEADER = "X-MemberPulse-Signature"


class Unauthenticated(Exception):
    """The request is not provably from the configured sender, or is stale: nothing of it is stored."""


def hmac_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """What a sender puts in ``X-MemberPulse-Signature``: HMAC-SHA256 of ``"<timestamp>." + body``."""
    return SIGNATURE_PREFIX + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now_s: float) -> dict[str, str]:
    """The two headers a sender adds; ``now_s`` is unix seconds. Sign each attempt afresh."""
    timestamp = str(int(now_s))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: hmac_signature(secret, timestamp, body)}


def verify_hmac(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, *, now: datetime, window_s: int
) -> None:
    if not timestamp or not signature:
        raise Unauthenticated(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required")
    check_timestamp(timestamp, now=now, window_s=window_s)
    if not hmac.compare_digest(hmac_signature(secret, timestamp, body), signature.strip()):
        raise Unauthenticated("signature does not match the body")


def check_timestamp(timestamp: str, *, now: datetime, window_s: int) -> None:
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthenticated("timestamp must be unix seconds")
    if abs(now.timestamp() - int(timestamp)) > window_s:
        raise Unauthenticated(f"timestamp is outside the {window_s}s replay window")
