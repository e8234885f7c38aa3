"""The raw identifiers people carry: card numbers, phones, openids, WeCom ids, shop customer ids.

Every one embeds the run id or is drawn from a range the run id picks, so two runs on one stack
never share an identifier (which would make ingest merge their members). Phones are valid mobile
numbers of the member's country (checked with ``phonenumbers`` by the unit tests), written the way
tills and forms write them: with or without spaces, dashes and the country code.
"""

from __future__ import annotations

import hashlib
import random

# Per country: the calling code, mobile prefixes all valid for any subscriber digits, and how many digits follow.
_MOBILE: dict[str, tuple[str, tuple[str, ...], int]] = {
    "CN": (
        "86",
        tuple(str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190))),
        8,
    ),
    "KZ": ("7", ("700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"), 7),
    "IR": ("98", ("912", "913", "914", "915", "916", "917", "918", "919", "935", "936", "937", "938", "939"), 7),
    "GB": ("44", ("74", "75", "78"), 8),
}


def card_no(run: str, n: int) -> str:
    return f"{run}-{n:08d}"


def customer_id(run: str, n: int) -> str:
    return f"{run}-cust-{n:07d}"


def app_user_id(run: str, n: int) -> str:
    return f"{run}-app-{n:07d}"


def crm_openid(run: str, n: int) -> str:
    """The openid the CRM holds for a card member (template messages), never seen in the chat data."""
    return f"o{run}_m{n:07d}"


def follower_openid(run: str, n: int) -> str:
    return f"o{run}_f{n:07d}"


def wecom_external_id(run: str, n: int) -> str:
    """A WeCom external contact id: "wm" and 30 more id characters (what ingest accepts as a customer)."""
    unique = f"wm{run}_{n:06d}"
    return unique + hashlib.sha256(unique.encode()).hexdigest()[: 32 - len(unique)]


def official_account(run: str) -> str:
    return f"gh_{run}"


def wecom_room(run: str, store_id: str) -> str:
    return f"wr{run}_{store_id}"


def email(run: str, n: int) -> str:
    return f"member{n}.{run}@example.com"


# Steps through a country's numbers in a scattered order; a prime, so coprime with every country's range.
_STRIDE = 982_451_653


class PhoneBook:
    """Distinct mobile numbers per country, from an offset the run id picks.

    The n-th number of a country is offset + n * stride (mod the country's range): distinct within a
    run, and two runs share a number only if their offsets fall within a member count of each other.
    """

    def __init__(self, run: str) -> None:
        self._run = run
        self._issued: dict[str, int] = {}

    def issue(self, country: str, rng: random.Random) -> str:
        """A new number, written the way people write it (E.164, spaced, dashed, or national for China)."""
        calling, prefixes, digits = _MOBILE[country]
        scale: int = 10**digits
        space = len(prefixes) * scale
        n = self._issued.get(country, 0)
        if n >= space:
            raise ValueError(f"no more {country} numbers: {space} issued")
        self._issued[country] = n + 1
        offset = int.from_bytes(hashlib.sha256(f"{self._run}:{country}".encode()).digest()[:8], "big")
        slot = (offset + n * _STRIDE) % space
        prefix, subscriber = prefixes[slot // scale], f"{slot % scale:0{digits}d}"
        national = prefix + subscriber
        style = rng.random()
        if country == "CN":
            if style < 0.45:
                return national
            if style < 0.65:
                return f"{national[:3]} {national[3:7]} {national[7:]}"
            if style < 0.8:
                return f"{national[:3]}-{national[3:7]}-{national[7:]}"
            return f"+86{national}"
        if style < 0.6:
            return f"+{calling}{national}"
        if country == "GB":
            return f"+44 {national[:4]} {national[4:]}"
        return f"+{calling} {national[:3]} {national[3:6]} {national[6:]}"
