"""Webhook authentication: the shared HMAC scheme for our API, sha1 for WeChat's callback."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from shared.signing import SIGNATURE_PREFIX, Unauthenticated, check_timestamp, hmac_signature, verify_hmac

__all__ = ["SIGNATURE_PREFIX", "Unauthenticated", "hmac_signature", "verify_hmac", "verify_wechat", "wechat_signature"]


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
