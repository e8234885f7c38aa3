"""Signed unsubscribe tokens: the link in a marketing message that withdraws consent on one channel.

A token is ``base64url(payload) "." base64url(HMAC-SHA256)``, unpadded, where the payload is compact
JSON ``{"c": channel, "m": member_id, "o": offer_id}``. The MAC covers a purpose label as well as the
payload, so a signature made with the same secret for anything else (a webhook body) is never a valid
token. Only the holder of the secret can mint one, and a token names one member, one channel and one
offer; the offer id makes every token distinct, so the adapter enforces single use by storing
``token_id(token)`` and refusing it the second time.

``verify`` accepts only the exact bytes ``issue`` produces: base64 has several spellings of the same
bytes (padding, the unused low bits of the last character), and each spelling would be a different
token id, so each would be usable once more. Non-canonical spellings are rejected instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from shared.contracts import Channel

MAX_TOKEN_CHARS = 1024
_PURPOSE = b"memberpulse.unsubscribe.v1\x00"
_MAC_BYTES = hashlib.sha256().digest_size


class InvalidToken(ValueError):
    """The token was not issued by us for an unsubscribe, or was damaged on the way."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    member_id: str
    channel: Channel
    offer_id: str

    def __post_init__(self) -> None:
        if not self.member_id or not self.offer_id:
            raise ValueError("an unsubscribe claim needs a member id and an offer id")


def issue(secret: bytes, claim: UnsubscribeClaim) -> str:
    """A URL-safe token for ``claim``; raises ValueError when it would be too long to verify."""
    _check_secret(secret)
    body = {"c": claim.channel.value, "m": claim.member_id, "o": claim.offer_id}
    payload = _b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    token = f"{payload}.{_b64encode(_mac(secret, payload))}"
    if len(token) > MAX_TOKEN_CHARS:
        # Never hand out a link that verify would refuse: fail at issue time, where the cause is visible.
        raise ValueError(f"unsubscribe token would be {len(token)} characters, over {MAX_TOKEN_CHARS}")
    return token


def verify(secret: bytes, token: str) -> UnsubscribeClaim:
    """The claim a genuine token carries; raises InvalidToken for anything else."""
    _check_secret(secret)
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken(f"token is longer than {MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 2 or not all(parts):
        raise InvalidToken("token is not two base64url parts joined by '.'")
    payload, signature = parts
    raw = _b64decode(payload, "payload")
    mac = _b64decode(signature, "signature")
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidToken("token signature does not match")
    # Past this point the payload is ours: anything odd in it is a bug in an older issuer, still refused.
    try:
        body = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidToken("token payload is not JSON") from exc
    if not isinstance(body, dict) or set(body) != {"c", "m", "o"} or not all(isinstance(v, str) for v in body.values()):
        raise InvalidToken("token payload must hold exactly the strings c, m and o")
    try:
        channel = Channel(body["c"])
    except ValueError:
        raise InvalidToken(f"token names an unknown channel {body['c']!r}") from None
    try:
        return UnsubscribeClaim(member_id=body["m"], channel=channel, offer_id=body["o"])
    except ValueError as exc:
        raise InvalidToken(str(exc)) from None


def token_id(token: str) -> str:
    """What the single-use ledger stores: the token's SHA-256, hex (the token itself never needs storing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_secret(secret: bytes) -> None:
    if not secret:
        raise ValueError("the unsubscribe secret must not be empty")


def _mac(secret: bytes, payload: str) -> bytes:
    return hmac.new(secret, _PURPOSE + payload.encode("ascii"), hashlib.sha256).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken(f"token {what} is not base64url") from exc
    if _b64encode(raw) != text:
        raise InvalidToken(f"token {what} is not in canonical unpadded base64url")
    return raw
