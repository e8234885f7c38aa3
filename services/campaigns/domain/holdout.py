"""Holdout groups: which members are kept out of a campaign so its effect can be measured.

Membership is a pure function of the member and a salt, so every replica, every rerun and every
report agrees on who is held out without storing the assignment. Each campaign salts with its own
id, which makes campaign holdouts independent of one another; the global holdout (members who get
no marketing at all) has a salt of its own.
"""

from __future__ import annotations

import hashlib
import math

_BUCKETS = 100.0
# Float division rounds the top few hash values up to exactly 100; they belong just below it.
_TOP = math.nextafter(_BUCKETS, 0.0)


def bucket(member_id: str, salt: str) -> float:
    """A uniform, deterministic value in [0, 100) for this member under this salt."""
    # The unit separator cannot occur in either id, so ("a", "bc") and ("ab", "c") never collide.
    digest = hashlib.sha256(f"{salt}\x1f{member_id}".encode()).digest()
    return min(int.from_bytes(digest[:8], "big") / 2**64 * _BUCKETS, _TOP)


def in_holdout(member_id: str, campaign_id: str, pct: float) -> bool:
    """True when the member is in the `pct` percent held out of this campaign."""
    return bucket(member_id, "campaign:" + campaign_id) < pct


def in_global_holdout(member_id: str, pct: float) -> bool:
    """True when the member is in the `pct` percent held out of all marketing."""
    return bucket(member_id, "global") < pct
