"""What scoring records of each input partition's progress, which the sweeper's watermark follows."""

from __future__ import annotations

from datetime import UTC, datetime

from services.scoring.service_layer.arrivals import partition_progress

CHAT_6 = ("member.chat.v1", 6)
BUY_6 = ("member.purchase.v1", 6)
JULY_10 = datetime(2026, 7, 10, 7, 21, tzinfo=UTC)
JULY_13 = datetime(2026, 7, 13, 12, 13, tzinfo=UTC)


def test_every_owned_partition_is_complete_as_far_as_the_consumer_knows_and_no_further() -> None:
    recorded = partition_progress([CHAT_6, BUY_6], {CHAT_6: JULY_10}, JULY_13)
    assert recorded == {CHAT_6: (JULY_13, False), BUY_6: (JULY_13, False)}


def test_while_completeness_is_unknown_a_partition_read_to_its_end_still_holds_the_watermark_back() -> None:
    # Just after a rebalance: chat 6 is read to its end, but its records wait in memory for a
    # partition still behind. Counted as caught up, it would drop out of the watermark, and the
    # sweeper would review its members past the events it has not applied yet.
    recorded = partition_progress([CHAT_6, BUY_6], {}, None)
    assert recorded == {CHAT_6: (None, False), BUY_6: (None, False)}


def test_what_a_batch_applied_counts_even_before_completeness_is_known() -> None:
    assert partition_progress([CHAT_6], {CHAT_6: JULY_10}, None) == {CHAT_6: (JULY_10, False)}
