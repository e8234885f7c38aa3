"""Following identity merges (``member.merged.v1``): one person, one history of offers.

When ingest finds that two member ids are one person, campaigns folds the merged id into the
survivor: its decisions (so caps, cooldowns and attribution count for the person), its purchase
rhythm and its consents. Events still in flight under the merged id (they sit in another
partition, and may be read after the merge) are taken as the survivor's. Its states are dropped:
scoring publishes the survivor's merged state, and a lifecycle change of an id that no longer
stands for anyone must not fire an offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.campaigns.adapters import decision_repository, member_repository
from services.campaigns.domain.triggers import Versioned, replenishment_due
from shared.contracts import MemberChatV1, MemberConsentV1, MemberMergedV1, MemberPurchaseV1, MemberStateV1

# Events that are about the person, whichever of their ids they carry.
_FOLLOWED = (MemberPurchaseV1, MemberChatV1, MemberConsentV1, MemberStateV1)


async def follow_merges(conn: Any, merges: Sequence[MemberMergedV1], campaigns: Sequence[Versioned]) -> None:
    for merge in sorted(merges, key=lambda m: (m.occurred_at, m.member_id, m.merged_member_id)):
        survivor, merged = merge.member_id, merge.merged_member_id
        rhythm = await member_repository.fold_merge(conn, survivor, merged, merge.occurred_at)
        await decision_repository.move_decisions(conn, survivor, merged)
        if rhythm is not None:
            due = replenishment_due(rhythm.first, rhythm.last, rhythm.purchases, campaigns)
            await member_repository.set_replenishment_due(conn, {survivor: due})


async def onto_survivors(conn: Any, payloads: Sequence[Any]) -> list[Any]:
    """The batch's events with merged ids replaced by their survivors, and merged ids' states dropped."""
    survivors = await member_repository.survivors_of(conn, {p.member_id for p in payloads if isinstance(p, _FOLLOWED)})
    if not survivors:
        return list(payloads)
    out = []
    for payload in payloads:
        survivor = survivors.get(payload.member_id) if isinstance(payload, _FOLLOWED) else None
        if survivor is None:
            out.append(payload)
        elif not isinstance(payload, MemberStateV1):
            out.append(payload.model_copy(update={"member_id": survivor}))
    return out
