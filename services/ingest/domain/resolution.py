"""Identity resolution: which member an event's identifiers name, and when two members are one person.

Identifiers map to members through a link table. An event that carries several identifiers
links them to one member; if they already named different members, those members merge.
The survivor is the member seen first (by event time), ties going to the smaller id, so a
replay of the same history merges the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.ingest.domain.identity import member_id_for
from services.ingest.domain.model import Identifier

_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Merge:
    survivor: str
    merged: str
    reason: str


@dataclass(frozen=True)
class Resolution:
    member_id: str
    # Identifiers to (re)link to ``member_id``: new ones, and ones that named a merged member.
    links: tuple[Identifier, ...]
    merges: tuple[Merge, ...]
    is_new_member: bool


def resolve(
    identifiers: Sequence[Identifier], links: Mapping[str, str], first_seen: Mapping[str, datetime]
) -> Resolution:
    """Resolve ``identifiers`` against the known ``links`` (digest → member id).

    ``first_seen`` must hold the first event time of every member ``links`` names.
    """
    members = list(dict.fromkeys(links[i.digest] for i in identifiers if i.digest in links))
    if not members:
        return Resolution(member_id_for(identifiers[0]), tuple(identifiers), (), is_new_member=True)
    # A member without a recorded first sighting sorts last rather than failing the event.
    survivor = min(members, key=lambda member: (first_seen.get(member, _NEVER), member))
    kinds = ", ".join(sorted({i.kind.value for i in identifiers if links.get(i.digest) not in (None, survivor)}))
    merges = tuple(Merge(survivor, member, f"shared identifiers: {kinds}") for member in members if member != survivor)
    to_link = tuple(i for i in identifiers if links.get(i.digest) != survivor)
    return Resolution(survivor, to_link, merges, is_new_member=False)
