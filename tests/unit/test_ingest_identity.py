"""Member identity: raw upstream ids are replaced by a keyed, salted pseudonym at the edge."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from services.ingest.domain.identity import pseudonymous_member_id

SALT = b"test-salt"
PSEUDONYM = re.compile(r"^m_[0-9a-f]{32}$")


@pytest.mark.parametrize(
    ("id_type", "raw_id"),
    [("phone", "+8613800138000"), ("email", "alice@example.com"), ("unionid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")],
)
def test_a_member_id_is_m_underscore_and_32_hex_digits(id_type: str, raw_id: str) -> None:
    assert PSEUDONYM.match(pseudonymous_member_id(id_type, raw_id, SALT))


def test_a_member_id_is_the_keyed_hash_of_type_and_id() -> None:
    expected = hmac.new(SALT, b'["phone", "+8613800138000"]', hashlib.sha256).hexdigest()[:32]

    assert pseudonymous_member_id("phone", "+8613800138000", SALT) == f"m_{expected}"


def test_a_member_id_is_not_a_plain_hash_that_a_lookup_table_could_reverse() -> None:
    plain = hashlib.sha256(b'["phone", "+8613800138000"]').hexdigest()[:32]

    assert pseudonymous_member_id("phone", "+8613800138000", SALT) != f"m_{plain}"


def test_the_same_person_gets_the_same_member_id_every_time() -> None:
    assert pseudonymous_member_id("phone", "+8613800138000", SALT) == pseudonymous_member_id(
        "phone", "+8613800138000", SALT
    )


def test_id_type_case_and_surrounding_whitespace_do_not_change_the_member_id() -> None:
    assert pseudonymous_member_id(" Phone ", " +8613800138000\n", SALT) == pseudonymous_member_id(
        "phone", "+8613800138000", SALT
    )


def test_another_salt_gives_another_member_id() -> None:
    assert pseudonymous_member_id("phone", "+8613800138000", b"other-salt") != pseudonymous_member_id(
        "phone", "+8613800138000", SALT
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("phone", "13800138000"), ("phone", "13800138001"), id="other-id"),
        pytest.param(("phone", "13800138000"), ("wechat", "13800138000"), id="same-id-other-type"),
    ],
)
def test_different_identities_get_different_member_ids(first: tuple[str, str], second: tuple[str, str]) -> None:
    assert pseudonymous_member_id(*first, SALT) != pseudonymous_member_id(*second, SALT)


def test_a_colon_in_the_id_type_cannot_make_two_identities_collide() -> None:
    assert pseudonymous_member_id("wecom:corp", "user", SALT) != pseudonymous_member_id("wecom", "corp:user", SALT)


@pytest.mark.parametrize("raw_id", ["13800138000", "alice@example.com", "+8613800138000", "张伟", "abc123"])
def test_a_member_id_never_contains_the_raw_id(raw_id: str) -> None:
    member_id = pseudonymous_member_id("phone", raw_id, SALT)

    assert raw_id not in member_id
    assert raw_id.lower() not in member_id
