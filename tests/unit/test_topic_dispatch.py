"""``by_topic``: one decoder for a consumer of several topics, dispatching on the record's topic."""

from __future__ import annotations

import pytest

from shared.kafka.consumer import by_topic
from shared.kafka.records import Decoded, Decoder, RawRecord, Rejected
from tests.unit.fakes import FakeRecord


def _tagging(tag: str) -> Decoder[str]:
    def decode(record: RawRecord) -> Decoded[str]:
        return Decoded(event_id=f"{tag}:{record.offset}", payload=tag, record=record)

    return decode


DECODE = by_topic({"member.chat.v1": _tagging("chat"), "member.purchase.v1": _tagging("purchase")})


@pytest.mark.parametrize(("topic", "tag"), [("member.chat.v1", "chat"), ("member.purchase.v1", "purchase")])
def test_by_topic_hands_a_record_to_its_topics_decoder(topic: str, tag: str) -> None:
    record = FakeRecord(topic=topic, offset=5)

    decoded = DECODE(record)

    assert decoded.payload == tag
    assert decoded.event_id == f"{tag}:5"
    assert decoded.record is record


def test_by_topic_rejects_a_record_from_a_topic_it_has_no_decoder_for() -> None:
    with pytest.raises(Rejected) as caught:
        DECODE(FakeRecord(topic="member.community.v1"))

    assert caught.value.code == "unexpected_topic"
    assert "member.community.v1" in caught.value.message


def test_by_topic_with_no_decoders_rejects_everything() -> None:
    with pytest.raises(Rejected) as caught:
        by_topic({})(FakeRecord(topic="member.chat.v1"))

    assert caught.value.code == "unexpected_topic"


def test_by_topic_lets_a_decoders_own_rejection_through() -> None:
    def refuse(record: RawRecord) -> Decoded[str]:
        raise Rejected("invalid_json", "nope")

    with pytest.raises(Rejected) as caught:
        by_topic({"member.chat.v1": refuse})(FakeRecord(topic="member.chat.v1"))

    assert caught.value.code == "invalid_json"
