"""Field helpers the format adapters share, so each rejects bad input with the same codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import Identifier, IdKind
from services.ingest.domain.payloads import ParseContext

# The canonical chat event's limit: longer text would fail the contract after parsing.
MAX_TEXT_CHARS = 20_000

K = TypeVar("K")


def json_child(payload: Mapping[str, Any], field: str, *, absent: str = "missing_field") -> dict[str, Any]:
    """A nested JSON object (``sender``, ``text``, ``revoke``); ``absent`` is the code when it is not there."""
    value = payload.get(field)
    if value is None:
        raise InvalidRecord(absent, f"{field} is required")
    if not isinstance(value, dict):
        raise InvalidRecord("invalid_field", f"{field} must be an object, not {type(value).__name__}")
    return value


def kind_of(value: object, field: str, kinds: Mapping[str, K]) -> K:
    """The mapped kind for an upstream kind string; upstream spellings are matched exactly."""
    if value is None or value == "":
        raise InvalidRecord("missing_field", f"{field} is required")
    if not isinstance(value, str):
        raise InvalidRecord("invalid_field", f"{field} must be a string, not {type(value).__name__}")
    if value not in kinds:
        raise InvalidRecord("unknown_kind", f"{field} {value[:64]!r} is not one of {sorted(kinds)}")
    return kinds[value]


def message_text(value: object, field: str, *, required: bool = False) -> str:
    """Message text exactly as written: never stripped or normalised, so scripts and emoji survive intact."""
    if value is None and required:
        raise InvalidRecord("missing_field", f"{field} is required for a text message")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord("invalid_field", f"{field} must be a string, not {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidRecord("invalid_field", f"{field} is longer than {MAX_TEXT_CHARS} characters")
    return value


def identity_value(value: object, field: str) -> str:
    """A raw member identifier, stripped; absent or blank is ``empty_identity`` rather than ``missing_field``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # card numbers and app user ids sometimes arrive as JSON numbers
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidRecord("empty_identity", f"{field} is required: it names the member")
    if not isinstance(value, str):
        raise InvalidRecord("invalid_field", f"{field} must be a string, not {type(value).__name__}")
    return value.strip()


def required(payload: Mapping[str, Any], field: str, *, label: str | None = None) -> object:
    """``payload[field]``, or ``missing_field`` when it is absent or null; ``label`` names it in the message."""
    value = payload.get(field)
    if value is None or value == "":
        raise InvalidRecord("missing_field", f"{label or field} is required")
    return value


def json_items(
    payload: Mapping[str, Any], field: str, *, max_items: int, optional: bool = False
) -> list[dict[str, Any]]:
    """A JSON array of objects (receipt lines, order items), at most ``max_items`` long.

    Required and non-empty unless ``optional``, when an absent array is an empty one.
    """
    if optional and payload.get(field) is None:
        return []
    items = required(payload, field)
    if not isinstance(items, list):
        raise InvalidRecord("invalid_field", f"{field} must be an array, not {type(items).__name__}")
    if not items and not optional:
        raise InvalidRecord("missing_field", f"{field} must have at least one entry")
    if len(items) > max_items:
        raise InvalidRecord("invalid_field", f"{field} has {len(items)} entries; the limit is {max_items}")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidRecord("invalid_field", f"{field}[{index}] must be an object, not {type(item).__name__}")
    return items


def identifiers_of(candidates: Sequence[tuple[IdKind, object]], ctx: ParseContext) -> tuple[Identifier, ...]:
    """The hashed identifiers among ``candidates`` (in the upstream's order of trust), skipping absent ones.

    A blank value counts as absent: tills send ``"card_no": ""`` for a phone-only member. A value
    present but malformed (an impossible phone) still rejects the record rather than being dropped,
    since dropping it could attach the purchase to a different member.
    """
    given = [(kind, raw) for kind, raw in candidates if not _blank(raw)]
    if not given:
        names = ", ".join(kind.value for kind, _ in candidates)
        raise InvalidRecord("empty_identity", f"no member identifier is present (expected one of {names})")
    return tuple(identifier(kind, raw, ctx.salt, default_region=ctx.default_region) for kind, raw in given)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
