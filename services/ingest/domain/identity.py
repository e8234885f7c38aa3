"""Member identity: PII is hashed at the edge, so raw ids never leave ingest."""

from __future__ import annotations

import hashlib
import hmac
import json


def pseudonymous_member_id(id_type: str, raw_id: str, salt: bytes) -> str:
    """A stable member id from an upstream identifier: keyed hash, so it cannot be reversed by lookup."""
    # JSON-encoding the pair keeps ("a:b", "c") and ("a", "b:c") apart.
    message = json.dumps([id_type.strip().lower(), raw_id.strip()], ensure_ascii=False).encode()
    digest = hmac.new(salt, message, hashlib.sha256).hexdigest()
    return f"m_{digest[:32]}"
