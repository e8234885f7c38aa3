"""Arbitration and guards: one decision per member per moment, every suppression with its reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.campaigns.domain.decide import Arbiter, BudgetLedger, Decision, Guards, MemberHistory, Outcome, Reason
from services.campaigns.domain.members import timeline
from services.campaigns.domain.triggers import Candidate
from shared.contracts import Channel, ValueTier
from tests.unit.campaigns.builders import NOON, campaign, candidate, member


def decide(candidates: list[Candidate], members=None, histories=None, guards: Guards | None = None, budgets=None):
    ids = {c.member_id for c in candidates}
    members = members or {i: member(i) for i in ids}
    histories = histories or {i: MemberHistory() for i in ids}
    ledger = BudgetLedger(budgets or {c.campaign.id: c.campaign.campaign.budget for c in candidates})
    return Arbiter(guards or Guards(), ledger).decide(candidates, members, histories)


def by_campaign(decisions: list[Decision]) -> dict[str, Decision]:
    return {d.candidate.campaign.id: d for d in decisions}


def test_the_higher_priority_campaign_wins_the_moment_and_the_other_is_suppressed_with_a_reason():
    win_back = campaign("win_back", priority=80)
    cross_sell = campaign("cross_sell", priority=40)
    result = by_campaign(decide([candidate(cross_sell), candidate(win_back)]).decisions)
    assert result["win_back"].outcome is Outcome.ISSUED
    assert result["cross_sell"].outcome is Outcome.SUPPRESSED
    assert result["cross_sell"].reason is Reason.LOST_ARBITRATION


def test_between_equal_priorities_the_greater_value_at_risk_wins():
    by_value = campaign("by_value", priority=50, value_basis="value_at_risk")
    fixed = campaign("fixed", priority=50, value_basis="fixed", expected_value_minor=1_000)
    rich = member("m-1", value_at_risk_minor=5_000_000)
    result = by_campaign(decide([candidate(fixed), candidate(by_value)], members={"m-1": rich}).decisions)
    assert result["by_value"].outcome is Outcome.ISSUED
    assert result["fixed"].reason is Reason.LOST_ARBITRATION


def test_marketing_is_kept_two_days_apart_per_member_and_channel():
    c = campaign("cross_sell", trigger={"kind": "cross_sell"})
    history = MemberHistory()
    history.deliveries[Channel.WECHAT].append(NOON - timedelta(hours=30))
    history.deliveries[Channel.SMS].append(NOON - timedelta(hours=30))
    [decision] = decide([candidate(c)], histories={"m-1": history}).decisions
    assert (decision.outcome, decision.reason) == (Outcome.SUPPRESSED, Reason.FREQUENCY_CAP)


def test_a_channel_still_under_its_cap_carries_the_offer_alone():
    c = campaign("cross_sell", trigger={"kind": "cross_sell"})
    history = MemberHistory()
    history.deliveries[Channel.WECHAT].append(NOON - timedelta(hours=30))
    [decision] = decide([candidate(c)], histories={"m-1": history}).decisions
    assert decision.outcome is Outcome.ISSUED
    assert decision.channels == (Channel.SMS,)


def test_notifications_are_exempt_from_marketing_caps_and_consent():
    c = campaign("order_ready", message_type="notification")
    history = MemberHistory()
    history.deliveries[Channel.WECHAT] += [NOON - timedelta(hours=1), NOON - timedelta(hours=30)]
    opted_out = member("m-1", consent={Channel.WECHAT: False, Channel.SMS: False})
    [decision] = decide([candidate(c)], members={"m-1": opted_out}, histories={"m-1": history}).decisions
    assert decision.outcome is Outcome.ISSUED
    assert decision.channels == (Channel.WECHAT, Channel.SMS)


def test_a_deferrable_offer_that_meets_the_cap_is_queued_for_the_first_free_slot():
    c = campaign("replenishment", trigger={"kind": "replenishment"}, deferrable=True)
    history = MemberHistory()
    last = NOON - timedelta(hours=30)
    history.deliveries[Channel.WECHAT].append(last)
    history.deliveries[Channel.SMS].append(last)
    [decision] = decide([candidate(c)], histories={"m-1": history}).decisions
    assert (decision.outcome, decision.reason) == (Outcome.QUEUED, Reason.FREQUENCY_CAP)
    assert decision.not_before == last + timedelta(hours=48)


def test_an_offer_decided_at_night_is_delivered_when_quiet_hours_end_in_the_members_zone():
    c = campaign()
    almaty = ZoneInfo("Asia/Almaty")
    late = datetime(2026, 3, 10, 23, 15, tzinfo=almaty)
    [decision] = decide([candidate(c, at=late)], members={"m-1": member("m-1", zone=almaty)}).decisions
    assert decision.outcome is Outcome.ISSUED
    assert decision.deliver_at == datetime(2026, 3, 11, 9, 0, tzinfo=almaty)


def test_marketing_goes_only_to_channels_the_member_has_not_opted_out_of():
    c = campaign()
    m = member("m-1", consent={Channel.WECHAT: False})
    [decision] = decide([candidate(c)], members={"m-1": m}).decisions
    assert decision.channels == (Channel.SMS,)


def test_a_member_opted_out_everywhere_gets_no_marketing():
    m = member("m-1", consent={Channel.WECHAT: False, Channel.SMS: False})
    [decision] = decide([candidate(campaign())], members={"m-1": m}).decisions
    assert (decision.outcome, decision.reason) == (Outcome.SUPPRESSED, Reason.NO_CONSENT)


def test_an_explicit_consent_audience_needs_a_recorded_opt_in():
    c = campaign(audience={"explicit_consent": True})
    m = member("m-1", consent={Channel.SMS: True})
    [decision] = decide([candidate(c)], members={"m-1": m}).decisions
    assert decision.channels == (Channel.SMS,)


def test_holdout_members_get_the_decision_recorded_and_no_message_and_use_no_budget():
    c = campaign(holdout_pct=100, budget={"max_total": 1})
    budgets = {c.id: c.campaign.budget}
    ledger_users = [candidate(c, member_id=f"m-{i}") for i in range(3)]
    decisions = decide(ledger_users, budgets=budgets).decisions
    assert {d.outcome for d in decisions} == {Outcome.HOLDOUT}
    assert all(d.reason is Reason.CAMPAIGN_HOLDOUT and d.deliver_at == NOON for d in decisions)


def test_a_global_holdout_keeps_members_out_of_every_campaign():
    decisions = decide([candidate(campaign())], guards=Guards(global_holdout_pct=100)).decisions
    assert [(d.outcome, d.reason) for d in decisions] == [(Outcome.HOLDOUT, Reason.GLOBAL_HOLDOUT)]


def test_a_total_budget_is_never_exceeded_and_the_most_valuable_moments_come_first():
    c = campaign(budget={"max_total": 2}, priority=10, value_basis="value_at_risk")
    members = {f"m-{i}": member(f"m-{i}", value_at_risk_minor=i * 1_000) for i in range(4)}
    decisions = decide([candidate(c, member_id=m) for m in members], members=members).decisions
    issued = sorted(d.candidate.member_id for d in decisions if d.outcome is Outcome.ISSUED)
    assert len(issued) == 2
    assert {d.reason for d in decisions if d.outcome is Outcome.SUPPRESSED} == {Reason.BUDGET_TOTAL}


def test_a_daily_budget_counts_in_the_chains_business_day():
    c = campaign(budget={"max_per_day": 1})
    decisions = decide([candidate(c, member_id="a"), candidate(c, member_id="b")]).decisions
    assert sorted((d.outcome, d.reason) for d in decisions) == sorted(
        [(Outcome.ISSUED, None), (Outcome.SUPPRESSED, Reason.BUDGET_DAILY)]
    )


def test_coupon_money_runs_out_before_the_count_does():
    c = campaign(offer={"template": "win_back", "coupon_value_minor": 3_000}, budget={"coupon_money_minor": 5_000})
    decisions = decide([candidate(c, member_id="a"), candidate(c, member_id="b")]).decisions
    assert sorted(str(d.reason) for d in decisions) == ["None", "budget_coupon_exhausted"]


def test_when_the_winner_is_out_of_budget_the_next_campaign_may_still_win():
    broke = campaign("broke", priority=90, budget={"max_total": 0})
    fallback = campaign("fallback", priority=10)
    result = by_campaign(decide([candidate(broke), candidate(fallback)]).decisions)
    assert result["broke"].reason is Reason.BUDGET_TOTAL
    assert result["fallback"].outcome is Outcome.ISSUED


def test_a_campaign_rests_for_its_cooldown_after_reaching_a_member():
    c = campaign(cooldown_days=14)
    history = MemberHistory(last_by_campaign={"win_back": NOON - timedelta(days=10)})
    [decision] = decide([candidate(c)], histories={"m-1": history}).decisions
    assert decision.reason is Reason.COOLDOWN


def test_members_outside_the_audience_get_no_decision_only_a_count():
    c = campaign(audience={"value_tier": ["vip"], "min_p_alive": 0.3})
    outcomes = decide([candidate(c)], members={"m-1": member("m-1", value_tier="low", p_alive=0.9)})
    assert outcomes.decisions == []
    assert outcomes.outside_audience == {"win_back": 1}


def test_moments_are_decided_in_event_time_order_so_an_earlier_offer_caps_a_later_one():
    c = campaign("cross_sell", trigger={"kind": "cross_sell"})
    first = candidate(c, occurrence="purchase:1", at=NOON)
    second = candidate(c, occurrence="purchase:2", at=NOON + timedelta(hours=3))
    decisions = decide([second, first]).decisions
    assert [(d.candidate.occurrence, d.outcome) for d in decisions] == [
        ("purchase:1", Outcome.ISSUED),
        ("purchase:2", Outcome.SUPPRESSED),
    ]


def test_every_reason_is_documented_for_the_people_reading_the_report():
    from pathlib import Path

    documented = (Path(__file__).resolve().parents[3] / "docs/campaigns.md").read_text()
    missing = [reason.value for reason in Reason if f"`{reason.value}`" not in documented]
    assert missing == []


def test_each_moment_is_decided_on_the_member_as_they_were_then():
    """A batch may carry the member's later state beside an earlier trigger: the trigger sees the earlier one."""
    for_vips = campaign("up_sell", trigger={"kind": "up_sell"}, audience={"value_tier": ["vip"]})
    before = member("m-1", value_tier=ValueTier.HIGH, state_version=3)
    became_vip = member("m-1", value_tier=ValueTier.VIP, state_version=4)
    through_the_batch = timeline(before, [(NOON, became_vip)])
    earlier = candidate(for_vips, at=NOON - timedelta(hours=1), occurrence="purchase:1")
    later = candidate(for_vips, at=NOON + timedelta(hours=1), occurrence="purchase:2")
    outcomes = decide([later, earlier], members={"m-1": through_the_batch})
    assert outcomes.outside_audience == {"up_sell": 1}
    [decision] = outcomes.decisions
    assert decision.candidate.occurrence == "purchase:2"


def test_a_timeline_ignores_a_state_no_newer_than_the_one_stored():
    stored = member("m-1", value_tier=ValueTier.VIP, state_version=5)
    redelivered = member("m-1", value_tier=ValueTier.LOW, state_version=4)
    assert timeline(stored, [(NOON, redelivered)]).at(NOON + timedelta(days=1)) == stored
