"""The topic registry: one row per topic, and the rows agree with their contracts."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from services.ingest.entrypoints.topology import MARKED as INGEST_MARKS
from shared.contracts import DeadLetterV1, MemberEvent, OfferIssuedV1, RawUpstreamRecord
from shared.contracts.topics import (
    ALL_TOPICS,
    DAY_MS,
    MEMBER_CHAT,
    MEMBER_STATE,
    OFFER_ISSUED,
    TOPICS_BY_NAME,
    TopicSpec,
    dlq_for,
    topic_for_contract,
)

SERVICES = ("ingest", "scoring", "campaigns", "notifier")
MEMBER_TOPICS = [spec for spec in ALL_TOPICS if spec.name.split(".")[0] in {"member", "offer", "notification"}]


def test_every_topic_name_is_unique() -> None:
    names = [spec.name for spec in ALL_TOPICS]

    assert len(names) == len(set(names))
    assert set(TOPICS_BY_NAME) == set(names)


def test_every_topic_name_carries_a_version_suffix() -> None:
    assert all(spec.name.endswith(".v1") for spec in ALL_TOPICS)


def test_the_member_topics_are_the_ones_expected() -> None:
    assert {spec.name for spec in MEMBER_TOPICS} == {
        "member.chat.v1",
        "member.community.v1",
        "member.purchase.v1",
        "member.merged.v1",
        "member.state.v1",
        "member.consent.v1",
        "offer.issued.v1",
        "notification.status.v1",
        "notification.receipt.v1",
    }


@pytest.mark.parametrize("spec", MEMBER_TOPICS, ids=lambda spec: spec.name)
def test_a_member_topic_carries_a_member_event_keyed_by_member_id(spec: TopicSpec) -> None:
    assert issubclass(spec.contract, MemberEvent)
    assert spec.key == "member_id"


@pytest.mark.parametrize("spec", MEMBER_TOPICS, ids=lambda spec: spec.name)
def test_a_member_topics_event_type_names_the_topic(spec: TopicSpec) -> None:
    event_type = getattr(spec.contract, "event_type", None)

    assert event_type == f"memberpulse.{spec.name}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_dlq_that_deletes_old_letters_after_90_days_and_holds_oversized_input(service: str) -> None:
    spec = dlq_for(service)

    assert spec.name == f"{service}.dlq.v1"
    assert spec.contract is DeadLetterV1
    assert spec.compacted is False
    assert spec.config == {
        "cleanup.policy": "delete",
        "retention.ms": str(90 * DAY_MS),
        # A 1 MB record rejected as too large is 1.33 MB in base64: its letter must fit.
        "max.message.bytes": str(16 * 1024 * 1024),
    }


def test_dlq_for_an_unknown_service_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        dlq_for("billing")


def test_the_dlqs_are_the_only_dead_letter_topics() -> None:
    dead_letter_topics = {spec.name for spec in ALL_TOPICS if spec.contract is DeadLetterV1}

    assert dead_letter_topics == {f"{service}.dlq.v1" for service in SERVICES}


def test_a_compacted_topic_is_configured_for_compaction() -> None:
    compacted = [spec for spec in ALL_TOPICS if spec.compacted]

    assert compacted == [MEMBER_STATE]
    assert MEMBER_STATE.config == {
        "cleanup.policy": "compact",
        "retention.ms": "-1",
        "min.compaction.lag.ms": str(DAY_MS),
    }


def test_a_plain_topic_deletes_and_has_no_compaction_lag() -> None:
    assert MEMBER_CHAT.config == {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}


def test_extra_config_is_added_to_and_overrides_the_derived_config() -> None:
    spec = TopicSpec(
        "x.v1",
        DeadLetterV1,
        "k",
        "d",
        retention_ms=1000,
        extra_config={"retention.ms": "5", "max.message.bytes": "2097152"},
    )

    assert spec.config == {"cleanup.policy": "delete", "retention.ms": "5", "max.message.bytes": "2097152"}


@pytest.mark.parametrize("spec", MEMBER_TOPICS, ids=lambda spec: spec.name)
def test_topic_for_contract_finds_the_single_topic_of_a_member_contract(spec: TopicSpec) -> None:
    assert topic_for_contract(spec.contract) is spec


def test_topic_for_contract_returns_the_offer_topic_for_offers() -> None:
    assert topic_for_contract(OfferIssuedV1) is OFFER_ISSUED


@pytest.mark.parametrize(
    ("contract", "count"),
    [pytest.param(DeadLetterV1, 4, id="dead-letters"), pytest.param(RawUpstreamRecord, 2, id="raw-records")],
)
def test_topic_for_contract_refuses_a_contract_carried_by_several_topics(contract: type[BaseModel], count: int) -> None:
    with pytest.raises(LookupError, match=f"carried by {count} topics"):
        topic_for_contract(contract)


def test_the_topics_declared_marked_are_the_ones_a_service_writes_progress_marks_to() -> None:
    # A consumer just started waits for these topics' marks: one nobody marks would stall it, and
    # one marked but not declared would be read out of its producers' order after a restart.
    scoring_marks = (MEMBER_STATE,)  # services.scoring.service_layer.marks
    declared = {spec.name for spec in ALL_TOPICS if spec.progress_marked}
    assert declared == {spec.name for spec in (*INGEST_MARKS, *scoring_marks)}
