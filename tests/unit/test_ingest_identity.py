"""Member identity: raw upstream ids are replaced by a keyed, salted pseudonym at the edge."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from services.ingest.domain.identity import identifier, member_id_for
from services.ingest.domain.model import IdKind

SALT = b"test-salt"
PSEUDONYM = re.compile(r"^m_[0-9a-f]{32}$")


def member_id(kind: str, raw: str, salt: bytes = SALT) -> str:
    return member_id_for(identifier(kind, raw, salt))


@pytest.mark.parametrize(
    ("kind", "raw_id"),
    [
        ("phone", "+8613800138000"),
        ("app_user_id", "alice@example.com"),
        ("wechat_unionid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
    ],
)
def test_a_member_id_is_m_underscore_and_32_hex_digits(kind: str, raw_id: str) -> None:
    assert PSEUDONYM.match(member_id(kind, raw_id))


def test_a_member_id_is_the_keyed_hash_of_kind_and_normalised_id() -> None:
    expected = hmac.new(SALT, b'["phone", "+8613800138000"]', hashlib.sha256).hexdigest()[:32]

    assert member_id("phone", "138 0013 8000") == f"m_{expected}"


def test_a_member_id_is_not_a_plain_hash_that_a_lookup_table_could_reverse() -> None:
    plain = hashlib.sha256(b'["phone", "+8613800138000"]').hexdigest()[:32]

    assert member_id("phone", "+8613800138000") != f"m_{plain}"


def test_the_same_person_gets_the_same_member_id_however_the_phone_is_written() -> None:
    assert member_id("phone", "+86 138-0013-8000") == member_id("phone", "13800138000")


def test_surrounding_whitespace_does_not_change_the_member_id() -> None:
    assert member_id("app_user_id", " u-42\n") == member_id("app_user_id", "u-42")


def test_another_salt_gives_another_member_id() -> None:
    assert member_id("phone", "+8613800138000", b"other-salt") != member_id("phone", "+8613800138000")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("phone", "13800138000"), ("phone", "13800138001"), id="other-id"),
        pytest.param(("app_user_id", "13800138000"), ("shop_customer_id", "13800138000"), id="same-id-other-kind"),
    ],
)
def test_different_identities_get_different_member_ids(first: tuple[str, str], second: tuple[str, str]) -> None:
    assert member_id(*first) != member_id(*second)


def test_a_colon_in_the_id_cannot_make_two_identities_collide() -> None:
    assert member_id("app_user_id", "corp:user") != member_id("shop_customer_id", "user")
    assert IdKind("app_user_id") is IdKind.APP_USER_ID


@pytest.mark.parametrize("raw_id", ["13800138000", "alice@example.com", "张伟", "abc123"])
def test_a_member_id_never_contains_the_raw_id(raw_id: str) -> None:
    made = member_id("app_user_id", raw_id)

    assert raw_id not in made
    assert raw_id.lower() not in made
