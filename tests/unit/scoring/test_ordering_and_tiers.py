"""Complaint words, RFM value tiers and the scores of a batch."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from services.scoring.adapters.member_repository import COLUMNS, SQL_TYPES
from services.scoring.domain.complaints import lexicon, terms_from_text
from services.scoring.domain.events import apply_event
from services.scoring.domain.explain import explain
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.domain.scores import with_scores
from services.scoring.domain.value_tier import RfmCuts, value_tier
from services.scoring.entrypoints.settings import ScoringSettings
from shared.contracts import PurchaseKind, ValueTier
from tests.unit.scoring.events import chat, day, purchase

MIGRATION = Path(__file__).resolve().parents[3] / "services/scoring/migrations/0002_member_state.sql"


def test_complaints_match_whole_words_in_spaced_scripts_and_substrings_in_chinese() -> None:
    words = lexicon()
    assert words.matches("鸡蛋坏了，我要投诉") == "投诉"
    assert words.matches("This is a SCAM!") == "scam"
    assert words.matches("the kids scampered off") is None
    assert words.matches("Это обман") == "обман"
    assert words.matches("من شکایت دارم") == "شکایت"
    assert words.matches("早上好") is None


def test_a_chain_adds_complaint_terms_from_a_file() -> None:
    words = lexicon(terms_from_text("# our own words\n不满意\n\nrubbish\n"))
    assert words.matches("非常不满意") == "不满意"
    assert words.matches("absolute rubbish") == "rubbish"


CUTS = RfmCuts(version=1, recency_days=(10, 30, 60, 120), frequency=(1, 2, 4, 8), monetary_minor=(5e3, 2e4, 5e4, 1e5))


@pytest.mark.parametrize(
    ("recency", "frequency", "spend", "tier"),
    [
        (3, 12, 300_000, ValueTier.VIP),
        (25, 5, 60_000, ValueTier.HIGH),
        (45, 3, 30_000, ValueTier.MID),
        (200, 1, 1_000, ValueTier.LOW),
    ],
)
def test_value_tiers_follow_rfm_quintiles(recency: float, frequency: int, spend: int, tier: ValueTier) -> None:
    assert value_tier(recency, frequency, spend, CUTS) is tier


def test_members_who_never_bought_or_chains_without_cut_points_have_no_value_tier() -> None:
    assert value_tier(3, 0, 0, CUTS) is None
    assert value_tier(3, 5, 50_000, None) is None


def test_scores_are_filled_for_buyers_only_and_value_at_risk_grows_as_p_alive_falls() -> None:
    policy = Policy()
    buyer, _ = apply_event(None, purchase(0), policy)
    buyer, _ = apply_event(buyer, purchase(10), policy)
    chatter, _ = apply_event(None, chat(0, member="m_chatter"), policy)
    fresh, stale = replace(buyer, clock=day(11)), replace(buyer, clock=day(200))
    scored_fresh, scored_stale, scored_chatter = with_scores([fresh, stale, chatter], policy)
    assert scored_chatter.p_alive is None
    assert scored_chatter.value_at_risk_minor is None
    assert scored_fresh.p_alive is not None
    assert scored_stale.p_alive is not None
    assert scored_stale.p_alive < scored_fresh.p_alive
    assert scored_fresh.clv_minor is not None
    assert scored_stale.clv_minor is not None
    assert scored_stale.clv_minor < scored_fresh.clv_minor
    assert scored_stale.value_at_risk_minor is not None
    assert scored_fresh.value_at_risk_minor is not None
    assert scored_stale.value_at_risk_minor > scored_fresh.value_at_risk_minor


def test_explain_says_why_in_words() -> None:
    policy = Policy()
    state: MemberState | None = None
    for event in [purchase(d) for d in range(0, 70, 7)]:
        state, _ = apply_event(state, event, policy)
    assert state is not None
    view = explain(state, day(100), policy)
    assert "overdue_vs_own_cadence" in view["warnings_now"]
    assert any("a purchase every 7.0 days" in line for line in view["explanation"])


def test_the_members_table_has_exactly_the_member_state_fields() -> None:
    sql = MIGRATION.read_text()
    body = sql[sql.index("CREATE TABLE members (") : sql.index(");", sql.index("CREATE TABLE members ("))]
    columns = re.findall(r"^\s{4}(\w+)\s", body, flags=re.MULTILINE)
    assert sorted(columns) == sorted(f.name for f in fields(MemberState))
    assert sorted(COLUMNS) == sorted(columns)


def test_the_insert_of_new_members_casts_each_column_to_its_type_in_the_migration() -> None:
    sql = MIGRATION.read_text()
    body = sql[sql.index("CREATE TABLE members (") : sql.index(");", sql.index("CREATE TABLE members ("))]
    column = r"^\s{4}(\w+)\s+([a-z][a-z \[\]]*?)(?:\s+(?:NOT|PRIMARY|DEFAULT)\b|,|$)"
    declared = {name: kind.strip() for name, kind in re.findall(column, body, re.M)}
    assert declared == SQL_TYPES


def test_rule_overrides_are_applied_and_misspelt_ones_refused() -> None:
    settings = ScoringSettings(rules={"engagement": {"silent_after_days": 45}, "lifecycle": {"dormant_after_days": 90}})
    rules = settings.scoring_rules()
    assert rules.engagement.silent_after_days == 45
    assert rules.lifecycle.dormant_after_days == 90
    with pytest.raises(ValueError, match="silent_after_dayz"):
        ScoringSettings(rules={"engagement": {"silent_after_dayz": 45}}).scoring_rules()
    with pytest.raises(ValueError, match="engagment"):
        ScoringSettings(rules={"engagment": {}}).scoring_rules()


def test_every_reason_code_is_documented() -> None:
    from services.scoring.domain import lifecycle

    documented = (Path(__file__).resolve().parents[3] / "docs/scoring.md").read_text()
    codes = [value for name, value in vars(lifecycle).items() if name.isupper() and isinstance(value, str)]
    assert len(codes) >= 14
    missing = [code for code in codes if f"`{code}`" not in documented]
    assert missing == []


def test_a_repeat_buyer_whose_purchases_were_all_refunded_still_gets_scores() -> None:
    policy = Policy()
    kept, _ = apply_event(None, purchase(0, total_minor=5_000), policy)
    kept, _ = apply_event(kept, purchase(5, total_minor=5_000), policy)
    refunded, _ = apply_event(kept, purchase(6, total_minor=10_000, kind=PurchaseKind.REFUND), policy)
    assert refunded.net_spend_minor == 0
    scored_refunded, scored_kept = with_scores([refunded, replace(kept, clock=refunded.clock)], policy)
    assert scored_refunded.p_alive is not None
    assert scored_refunded.clv_minor is not None
    assert scored_kept.clv_minor is not None
    assert 0 < scored_refunded.clv_minor < scored_kept.clv_minor
