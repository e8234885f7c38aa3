"""Unsubscribe tokens: only we can mint them, each names one member, channel and offer, and each is one token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from services.notifier.domain.unsubscribe import (
    MAX_TOKEN_CHARS,
    InvalidToken,
    UnsubscribeClaim,
    issue,
    token_id,
    verify,
)
from shared.contracts import Channel

SECRET = b"unsubscribe-secret-for-tests-0123456789"
CLAIM = UnsubscribeClaim(member_id="m-1", channel=Channel.EMAIL, offer_id="offer-1")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged(body: object, secret: bytes = SECRET) -> str:
    """A token signed exactly as issue signs, around a payload issue would never write."""
    payload = b64(json.dumps(body).encode())
    mac = hmac.new(secret, b"memberpulse.unsubscribe.v1\x00" + payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{b64(mac)}"


# -- round trip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", list(Channel))
def test_a_token_we_issued_verifies_to_its_claim(channel: Channel) -> None:
    claim = UnsubscribeClaim("m-1", channel, "offer-1")

    assert verify(SECRET, issue(SECRET, claim)) == claim


def test_ids_with_any_characters_survive_the_round_trip() -> None:
    claim = UnsubscribeClaim('m "1"/+.=会员', Channel.SMS, "offer:1.2\u200f")

    assert verify(SECRET, issue(SECRET, claim)) == claim


def test_a_token_is_url_safe_and_unpadded() -> None:
    token = issue(SECRET, CLAIM)

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert token.count(".") == 1


def test_the_payload_is_compact_json_with_keys_m_c_and_o() -> None:
    payload = issue(SECRET, CLAIM).split(".")[0]

    assert base64.urlsafe_b64decode(payload + "==") == b'{"c":"email","m":"m-1","o":"offer-1"}'


def test_issuing_is_deterministic_so_the_same_claim_is_the_same_token() -> None:
    assert issue(SECRET, CLAIM) == issue(SECRET, CLAIM)


def test_every_offer_gets_its_own_token() -> None:
    other_offer = UnsubscribeClaim(CLAIM.member_id, CLAIM.channel, "offer-2")

    assert issue(SECRET, CLAIM) != issue(SECRET, other_offer)
    assert token_id(issue(SECRET, CLAIM)) != token_id(issue(SECRET, other_offer))


# -- the ledger's id -------------------------------------------------------------------------------


def test_the_token_id_is_the_sha256_of_the_token_in_hex() -> None:
    token = issue(SECRET, CLAIM)

    assert token_id(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(token_id(token)) == 64


# -- refusals --------------------------------------------------------------------------------------


def test_a_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidToken, match="signature"):
        verify(SECRET, issue(b"another-secret", CLAIM))


def test_a_token_whose_payload_was_changed_is_refused() -> None:
    signature = issue(SECRET, CLAIM).split(".")[1]
    other_member = issue(SECRET, UnsubscribeClaim("m-2", CLAIM.channel, CLAIM.offer_id)).split(".")[0]

    with pytest.raises(InvalidToken, match="signature"):
        verify(SECRET, f"{other_member}.{signature}")


def test_a_plain_hmac_of_the_payload_made_for_another_purpose_is_refused() -> None:
    payload = issue(SECRET, CLAIM).split(".")[0]
    webhook_style = b64(hmac.new(SECRET, payload.encode(), hashlib.sha256).digest())

    with pytest.raises(InvalidToken, match="signature"):
        verify(SECRET, f"{payload}.{webhook_style}")


def test_a_truncated_signature_is_refused() -> None:
    payload, signature = issue(SECRET, CLAIM).split(".")

    with pytest.raises(InvalidToken, match="signature"):
        verify(SECRET, f"{payload}.{b64(base64.urlsafe_b64decode(signature + '=')[:16])}")


@pytest.mark.parametrize(
    "token",
    ["", ".", "abc", "abc.", ".abc", "a.b.c", "not base64!.abc", "abc.not base64!", "abcde.abc", "é.abc"],
    ids=repr,
)
def test_a_token_in_the_wrong_shape_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken, match="token"):
        verify(SECRET, token)


def test_a_padded_spelling_of_a_genuine_token_is_refused_so_it_cannot_be_used_twice() -> None:
    payload, signature = issue(SECRET, CLAIM).split(".")
    padded = f"{payload}{'=' * (-len(payload) % 4)}.{signature}="

    with pytest.raises(InvalidToken, match="canonical"):
        verify(SECRET, padded)


def test_a_spelling_with_other_unused_bits_is_refused_so_it_cannot_be_used_twice() -> None:
    token = issue(SECRET, CLAIM)
    # A 32-byte MAC is 43 characters: the last one carries 2 unused bits, so 4 spellings decode alike.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    twin = token[:-1] + alphabet[last ^ 1]
    assert base64.urlsafe_b64decode(twin.split(".")[1] + "=") == base64.urlsafe_b64decode(token.split(".")[1] + "=")

    with pytest.raises(InvalidToken, match="canonical"):
        verify(SECRET, twin)


def test_a_token_in_standard_base64_instead_of_url_safe_is_refused() -> None:
    token = issue(SECRET, UnsubscribeClaim("m-1>>>???", Channel.SMS, "offer-1"))
    standard = token.replace("-", "+").replace("_", "/")
    assert standard != token

    with pytest.raises(InvalidToken, match="canonical"):
        verify(SECRET, standard)


def test_an_oversize_token_is_refused_before_any_work() -> None:
    with pytest.raises(InvalidToken, match="longer than 1024"):
        verify(SECRET, "A" * (MAX_TOKEN_CHARS + 1))


def test_a_claim_too_long_to_verify_is_never_issued() -> None:
    with pytest.raises(ValueError, match="over 1024"):
        issue(SECRET, UnsubscribeClaim("m-1", Channel.SMS, "o" * 1000))


def test_a_genuinely_signed_token_for_an_unknown_channel_is_refused() -> None:
    with pytest.raises(InvalidToken, match="unknown channel 'fax'"):
        verify(SECRET, forged({"c": "fax", "m": "m-1", "o": "offer-1"}))


@pytest.mark.parametrize(
    "body",
    [
        ["email", "m-1", "offer-1"],
        {"c": "email", "m": "m-1"},
        {"c": "email", "m": "m-1", "o": "offer-1", "x": "extra"},
        {"c": "email", "m": 1, "o": "offer-1"},
        {"c": "email", "m": "", "o": "offer-1"},
        {"c": "email", "m": "m-1", "o": ""},
    ],
    ids=["list", "missing-offer", "extra-key", "non-string", "empty-member", "empty-offer"],
)
def test_a_genuinely_signed_token_with_a_malformed_payload_is_refused(body: object) -> None:
    with pytest.raises(InvalidToken):
        verify(SECRET, forged(body))


def test_a_signed_payload_that_is_not_json_is_refused() -> None:
    payload = b64(b"\xff not json")
    mac = hmac.new(SECRET, b"memberpulse.unsubscribe.v1\x00" + payload.encode(), hashlib.sha256).digest()

    with pytest.raises(InvalidToken, match="not JSON"):
        verify(SECRET, f"{payload}.{b64(mac)}")


def test_invalid_token_is_a_value_error() -> None:
    assert issubclass(InvalidToken, ValueError)


# -- the secret and the claim ----------------------------------------------------------------------


def test_an_empty_secret_is_refused_for_issuing_and_verifying() -> None:
    with pytest.raises(ValueError, match="secret"):
        issue(b"", CLAIM)
    with pytest.raises(ValueError, match="secret"):
        verify(b"", issue(SECRET, CLAIM))


@pytest.mark.parametrize(("member_id", "offer_id"), [("", "offer-1"), ("m-1", "")])
def test_a_claim_needs_a_member_and_an_offer(member_id: str, offer_id: str) -> None:
    with pytest.raises(ValueError, match="member id and an offer id"):
        UnsubscribeClaim(member_id, Channel.EMAIL, offer_id)
