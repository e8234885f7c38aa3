"""Identity resolution, webhook signatures, registries and the documented rejection codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.ingest.domain.errors import REJECTION_CODES, InvalidRecord
from services.ingest.domain.identity import identifier, member_id_for
from services.ingest.domain.model import IdKind
from services.ingest.domain.registries import RegistryError, products_from_csv, stores_from_csv
from services.ingest.domain.resolution import resolve
from services.ingest.domain.signatures import (
    Unauthenticated,
    hmac_signature,
    verify_hmac,
    verify_wechat,
    wechat_signature,
)

SALT = b"test-salt"
CARD = identifier(IdKind.CARD_NO, "6222 0001", SALT)
PHONE = identifier(IdKind.PHONE, "139 1234 5678", SALT)
OPENID = identifier(IdKind.WECHAT_OPENID, "gh_x:o123", SALT)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_unknown_identifiers_make_a_new_member_named_by_the_first_of_them() -> None:
    resolution = resolve([CARD, PHONE], links={}, first_seen={})

    assert resolution.is_new_member
    assert resolution.member_id == member_id_for(CARD)
    assert resolution.links == (CARD, PHONE)
    assert resolution.merges == ()


def test_a_known_identifier_names_its_member_and_links_the_new_one_to_it() -> None:
    resolution = resolve([PHONE, CARD], links={CARD.digest: "m_a"}, first_seen={"m_a": T0})

    assert (resolution.member_id, resolution.links, resolution.merges) == ("m_a", (PHONE,), ())


def test_identifiers_of_two_members_merge_them_into_the_one_seen_first() -> None:
    links = {CARD.digest: "m_late", PHONE.digest: "m_early"}
    first_seen = {"m_late": T0 + timedelta(days=3), "m_early": T0}

    resolution = resolve([CARD, PHONE], links, first_seen)

    assert resolution.member_id == "m_early"
    assert [(m.survivor, m.merged) for m in resolution.merges] == [("m_early", "m_late")]
    assert resolution.links == (CARD,)
    assert "card_no" in resolution.merges[0].reason


def test_the_survivor_of_members_first_seen_at_the_same_time_is_the_smaller_id_whatever_the_order() -> None:
    links = {CARD.digest: "m_b", PHONE.digest: "m_a", OPENID.digest: "m_c"}
    first_seen = dict.fromkeys(("m_a", "m_b", "m_c"), T0)

    for order in ([CARD, PHONE, OPENID], [OPENID, CARD, PHONE]):
        resolution = resolve(order, links, first_seen)
        assert resolution.member_id == "m_a"
        assert sorted(m.merged for m in resolution.merges) == ["m_b", "m_c"]


def test_a_phone_written_differently_is_the_same_identifier() -> None:
    assert identifier(IdKind.PHONE, "+86 139-1234-5678", SALT) == PHONE
    assert identifier(IdKind.PHONE, "13912345678", SALT) == PHONE
    assert identifier(IdKind.PHONE, "13912345678", b"other salt") != PHONE


def test_an_hmac_signed_request_verifies_and_any_change_does_not() -> None:
    body = b'[{"a": 1}]'
    stamp = str(int(NOW.timestamp()))
    good = hmac_signature(b"secret", stamp, body)

    verify_hmac(b"secret", stamp, good, body, now=NOW, window_s=300)
    for secret, timestamp, signature, payload in [
        (b"other", stamp, good, body),
        (b"secret", stamp, good, body + b" "),
        (b"secret", str(int(NOW.timestamp()) + 1), good, body),
        (b"secret", None, good, body),
        (b"secret", stamp, None, body),
    ]:
        with pytest.raises(Unauthenticated):
            verify_hmac(secret, timestamp, signature, payload, now=NOW, window_s=300)


def test_a_request_signed_outside_the_replay_window_is_refused() -> None:
    old = str(int((NOW - timedelta(minutes=10)).timestamp()))
    with pytest.raises(Unauthenticated, match="replay window"):
        verify_hmac(b"s", old, hmac_signature(b"s", old, b"x"), b"x", now=NOW, window_s=300)


def test_the_wechat_check_is_sha1_of_the_sorted_token_timestamp_and_nonce() -> None:
    # WeChat's documented example: sorted(["token", "1409304348", "xxxxxx"]) joined, then sha1.
    import hashlib

    expected = hashlib.sha1(b"1409304348tokenxxxxxx").hexdigest()
    assert wechat_signature("token", "1409304348", "xxxxxx") == expected
    stamp = str(int(NOW.timestamp()))
    verify_wechat("token", wechat_signature("token", stamp, "n"), stamp, "n", now=NOW, window_s=300)
    with pytest.raises(Unauthenticated):
        verify_wechat("token", wechat_signature("other", stamp, "n"), stamp, "n", now=NOW, window_s=300)


def test_registries_load_from_csv_and_refuse_a_bad_line_by_number() -> None:
    stores = stores_from_csv("\ufeffstore_id,name,timezone,region,city\ns1,中山路店,Asia/Shanghai,East,上海\n")
    assert [(s.store_id, s.name, s.timezone) for s in stores] == [("s1", "中山路店", "Asia/Shanghai")]
    with pytest.raises(RegistryError, match="line 3"):
        stores_from_csv("store_id,name,timezone,region,city\ns1,A,UTC,,\ns2,B,Mars/Olympus,,\n")
    with pytest.raises(RegistryError, match="header"):
        products_from_csv("sku,name\nx,y\n")
    products = products_from_csv("sku,name,category,brand,price_tier\nA,Сүт,dairy,Ақ,mid\nA,Milk,dairy,,mid\n")
    assert [(p.sku, p.name) for p in products] == [("A", "Milk")], "a later row for the same sku wins"


def test_every_rejection_code_is_documented_for_integrators() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "ingest.md").read_text()
    assert [code for code in REJECTION_CODES if f"`{code}`" not in docs] == []
    with pytest.raises(ValueError, match="undocumented"):
        InvalidRecord("made_up_code", "x")


def test_a_card_number_written_with_spaces_or_dashes_is_the_same_identifier() -> None:
    assert identifier(IdKind.CARD_NO, "6222 0001", SALT) == identifier(IdKind.CARD_NO, "62220001", SALT)
    assert identifier(IdKind.CARD_NO, "6222-0001", SALT) == CARD
    assert identifier(IdKind.CARD_NO, "6222-0002", SALT) != CARD


def test_a_member_with_no_recorded_first_sighting_never_wins_the_merge() -> None:
    resolution = resolve([CARD, PHONE], {CARD.digest: "m_a", PHONE.digest: "m_z"}, {"m_z": T0})

    assert resolution.member_id == "m_z"
