"""Member identity: identifiers are normalised then hashed at the edge, so raw ids never leave ingest."""

from __future__ import annotations

import hashlib
import hmac
import json

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.model import Identifier, IdKind
from shared import phones

_MAX_ID_LENGTH = 256


def member_id_for(identifier: Identifier) -> str:
    """The member id a new member gets from the identifier that first named it."""
    return f"m_{identifier.digest[:32]}"


def identifier(kind: IdKind | str, raw: object, salt: bytes, *, default_region: str = "CN") -> Identifier:
    """Normalise and hash one upstream identifier; phones become E.164 first so formats agree."""
    try:
        id_kind = IdKind(kind)
    except ValueError:
        known = [k.value for k in IdKind]
        raise InvalidRecord("unknown_id_type", f"identifier type {str(kind)[:64]!r} is not one of {known}") from None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidRecord("invalid_field", f"{id_kind.value} must be a string")
    value = str(raw).strip()
    if not value:
        raise InvalidRecord("empty_identity", f"{id_kind.value} is empty")
    if len(value) > _MAX_ID_LENGTH:
        raise InvalidRecord("invalid_field", f"{id_kind.value} is longer than {_MAX_ID_LENGTH} characters")
    if not value.isascii() and not _utf8_encodable(value):
        raise InvalidRecord("invalid_field", f"{id_kind.value} holds an unpaired surrogate")
    if id_kind is IdKind.PHONE:
        value = e164(value, default_region)
    elif id_kind is IdKind.CARD_NO:
        # Tills print "6222 0210 …", web forms send "6222-0210-…": one card either way.
        value = "".join(value.replace("-", " ").split())
    return Identifier(id_kind, _keyed_hash(id_kind.value, value, salt))


def e164(raw_phone: str, default_region: str) -> str:
    """The E.164 form of a phone number; numbers without a country code are read in ``default_region``."""
    try:
        return phones.e164(raw_phone, default_region)
    except phones.InvalidPhone as exc:
        raise InvalidRecord("invalid_phone", str(exc)) from None


def _utf8_encodable(value: str) -> bool:
    # A lone surrogate (from a "\\ud800" JSON escape) would make the hash below raise UnicodeEncodeError.
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _keyed_hash(id_type: str, raw_id: str, salt: bytes) -> str:
    # JSON-encoding the pair keeps ("a:b", "c") and ("a", "b:c") apart.
    message = json.dumps([id_type.strip().lower(), raw_id.strip()], ensure_ascii=False).encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()
