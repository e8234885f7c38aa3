"""Decoders from Kafka records to ``Decoded`` items for the batch consumer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from shared.contracts.base import MemberEvent
from shared.contracts.envelope import EnvelopeError, unwrap
from shared.contracts.topics import TopicSpec
from shared.kafka.consumer import by_topic
from shared.kafka.records import Decoded, Decoder, RawRecord, Rejected

M = TypeVar("M", bound=MemberEvent)


def cloudevent_decoder(spec: TopicSpec, contract: type[M]) -> Decoder[M]:
    """Decode CloudEvents of ``spec``'s topic into ``contract``; the CloudEvents id is the inbox key."""
    if spec.contract is not contract:
        raise ValueError(f"{spec.name} carries {spec.contract.__name__}, not {contract.__name__}")

    def decode(record: RawRecord) -> Decoded[M]:
        try:
            event = unwrap(contract, record.headers or (), record.value)
        except EnvelopeError as exc:
            raise Rejected(exc.code, str(exc)) from None
        if record.key is not None and record.key.decode(errors="replace") != event.data.member_id:
            raise Rejected("key_mismatch", "record key is not the event's member_id")
        return Decoded(event_id=event.id, payload=event.data, record=record, event_time=event.data.occurred_at)

    return decode


def cloudevents_by_topic(specs: Sequence[TopicSpec]) -> Decoder[Any]:
    """One decoder for a consumer of several CloudEvents topics, each with its registry contract."""
    return by_topic({spec.name: cloudevent_decoder(spec, spec.contract) for spec in specs})
