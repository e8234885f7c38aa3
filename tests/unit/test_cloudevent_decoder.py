"""``cloudevent_decoder``: CloudEvents records of a registry topic become ``Decoded`` items or rejections."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from shared.contracts import MemberChatV1, MemberCommunityV1, MemberPurchaseV1
from shared.contracts.envelope import wrap
from shared.contracts.topics import MEMBER_CHAT, MEMBER_COMMUNITY
from shared.kafka.decoders import cloudevent_decoder, cloudevents_by_topic
from shared.kafka.records import Rejected
from tests.unit.fakes import MEMBER_ID, T0, FakeRecord, chat_event

DECODE_CHAT = cloudevent_decoder(MEMBER_CHAT, MemberChatV1)


def _consumed(*, key: bytes | None = MEMBER_ID.encode(), **changes: Any) -> FakeRecord:
    """The record a consumer would poll after ingest wrapped a chat event (with ``changes`` applied)."""
    wire = wrap(
        chat_event(text="Қайырлы таң 🌅"), topic=MEMBER_CHAT.name, source="memberpulse/ingest", event_id="ce-123"
    )
    record = FakeRecord(topic=wire.topic, partition=3, offset=99, key=key, value=wire.value, headers=list(wire.headers))
    return replace(record, **changes)


def test_a_wrapped_event_decodes_with_its_ce_id_as_the_inbox_key() -> None:
    record = _consumed()

    decoded = DECODE_CHAT(record)

    assert decoded.event_id == "ce-123"
    assert decoded.payload == chat_event(text="Қайырлы таң 🌅")
    assert decoded.event_time == T0
    assert decoded.record is record


def test_a_record_without_a_key_is_accepted_on_the_events_member_id() -> None:
    decoded = DECODE_CHAT(_consumed(key=None))

    assert decoded.payload.member_id == MEMBER_ID


def test_a_record_keyed_by_another_member_is_rejected() -> None:
    with pytest.raises(Rejected) as caught:
        DECODE_CHAT(_consumed(key=b"m_someone_else"))

    assert caught.value.code == "key_mismatch"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"value": None}, "empty_value", id="no-value"),
        pytest.param({"value": b"{not json"}, "schema_violation", id="invalid-json"),
        pytest.param({"headers": []}, "missing_ce_attribute", id="no-headers"),
        pytest.param({"headers": None}, "missing_ce_attribute", id="headers-none"),
        pytest.param(
            {"headers": [("ce_specversion", b"0.3"), ("ce_id", b"x"), ("ce_type", b"t"), ("ce_source", b"s")]},
            "unsupported_specversion",
            id="old-specversion",
        ),
    ],
)
def test_a_bad_envelope_is_rejected_with_the_envelope_code(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(Rejected) as caught:
        DECODE_CHAT(_consumed(**changes))

    assert caught.value.code == code


def test_an_event_of_another_type_on_the_topic_is_rejected() -> None:
    decode_community = cloudevent_decoder(MEMBER_COMMUNITY, MemberCommunityV1)

    with pytest.raises(Rejected) as caught:
        decode_community(_consumed(topic=MEMBER_COMMUNITY.name))

    assert caught.value.code == "unexpected_type"


def test_a_decoder_cannot_be_built_for_a_contract_the_topic_does_not_carry() -> None:
    with pytest.raises(ValueError, match=r"member\.chat\.v1 carries MemberChatV1, not MemberPurchaseV1"):
        cloudevent_decoder(MEMBER_CHAT, MemberPurchaseV1)


def test_cloudevents_by_topic_decodes_each_topic_with_its_registry_contract() -> None:
    decode = cloudevents_by_topic([MEMBER_CHAT, MEMBER_COMMUNITY])

    decoded = decode(_consumed())

    assert isinstance(decoded.payload, MemberChatV1)
    with pytest.raises(Rejected) as caught:
        decode(_consumed(topic="member.purchase.v1"))
    assert caught.value.code == "unexpected_topic"
