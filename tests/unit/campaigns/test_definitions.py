"""Campaign definitions from YAML: mistakes are named by file, campaign and field; the shipped set is sound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.campaigns.domain.definitions import TriggerKind, ValueBasis
from services.campaigns.service_layer.definitions_loader import DefinitionError, load_folder
from shared.contracts.offer import Channel, MessageType
from shared.contracts.state import Lifecycle, ValueTier

DEFAULTS = Path(__file__).resolve().parents[3] / "services" / "campaigns" / "defaults"


def definition(campaign_id: str = "win_back", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": campaign_id,
        "name": "Win back members at risk",
        "trigger": {"kind": "lifecycle_entered", "lifecycle": "at_risk"},
        "offer": {"template": "win_back", "coupon_value_minor": 2000},
        "channels": ["wechat", "sms"],
    }
    return {**base, **overrides}


def write(folder: Path, name: str, content: Any) -> None:
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    (folder / name).write_text(text, encoding="utf-8")


def problems(folder: Path) -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        load_folder(folder)
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


def test_a_misspelt_key_is_refused_with_a_suggestion_not_silently_defaulted(tmp_path: Path) -> None:
    write(tmp_path, "win_back.yaml", definition(holdout_percent=5))
    write(tmp_path, "nested.yaml", definition("nested", trigger={"kind": "lifecycle_entered", "lifecyle": "at_risk"}))
    assert problems(tmp_path) == [
        "nested.yaml: campaign 'nested': trigger.lifecyle: unknown key; did you mean 'lifecycle'?",
        "win_back.yaml: campaign 'win_back': holdout_percent: unknown key; did you mean 'holdout_pct'?",
    ]


def test_a_key_nothing_resembles_lists_the_keys_allowed_there(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", definition(budget={"per_fortnight": 3}))
    [problem] = problems(tmp_path)
    assert problem.startswith("a.yaml: campaign 'win_back': budget.per_fortnight: unknown key; allowed here: ")
    assert "max_per_day" in problem


def test_a_lifecycle_trigger_must_name_its_lifecycle(tmp_path: Path) -> None:
    write(tmp_path, "win_back.yaml", definition(trigger={"kind": "lifecycle_entered"}))
    assert problems(tmp_path) == [
        "win_back.yaml: campaign 'win_back': trigger: a lifecycle_entered trigger names the lifecycle state, "
        "e.g. lifecycle: at_risk"
    ]


def test_a_bad_id_says_what_an_id_may_be(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", definition("Win Back!"))
    [problem] = problems(tmp_path)
    assert problem.startswith("a.yaml: campaign 'Win Back!': id: 'Win Back!' is not a campaign id: use 1 to 64")


def test_repeated_channels_and_unknown_values_name_the_field(tmp_path: Path) -> None:
    write(tmp_path, "repeated.yaml", definition(channels=["sms", "wechat", "sms"]))
    write(
        tmp_path, "unknown.yaml", definition("unknown", channels=["wechat", "fax"], audience={"value_tier": ["gold"]})
    )
    assert problems(tmp_path) == [
        "repeated.yaml: campaign 'win_back': channels must not repeat",
        "unknown.yaml: campaign 'unknown': audience.value_tier[0]: Input should be 'vip', 'high', 'mid' or 'low' "
        "(got 'gold')",
        "unknown.yaml: campaign 'unknown': channels[1]: Input should be 'sms', 'wechat', 'email' or 'webhook' "
        "(got 'fax')",
    ]


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    incomplete = definition()
    del incomplete["offer"]
    write(tmp_path, "a.yaml", incomplete)
    assert problems(tmp_path) == ["a.yaml: campaign 'win_back': offer: is required"]


def test_a_file_may_hold_a_list_and_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    nameless = definition()
    del nameless["id"]
    write(tmp_path, "lifecycle.yml", [definition("win_back"), definition("reactivation"), nameless])
    write(tmp_path, "broken.yaml", "id: x\nname: [unclosed\n")
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "scalar.yaml", "just a sentence")
    write(tmp_path, "notes.txt", "not a definition, not read")
    found = problems(tmp_path)
    assert found[0].startswith("broken.yaml: not valid YAML at line 3, column 1:")
    assert found[1:] == [
        "empty.yaml: holds no campaign",
        "lifecycle.yml: item 3: id: is required",
        "scalar.yaml: holds str, not a campaign or a list of campaigns",
    ]


def test_one_id_defined_twice_is_an_error_naming_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", definition())
    write(tmp_path, "b.yaml", [definition("other"), definition(priority=5)])
    assert problems(tmp_path) == ["b.yaml: campaign 'win_back' is already defined in a.yaml"]


def test_a_valid_folder_loads_in_file_order(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", [definition("second"), definition("third")])
    write(tmp_path, "a.yaml", definition("first", priority=80))
    campaigns = load_folder(tmp_path)
    assert [c.id for c in campaigns] == ["first", "second", "third"]
    assert campaigns[0].priority == 80
    with pytest.raises(DefinitionError, match="not a folder"):
        load_folder(tmp_path / "missing")


def test_the_shipped_defaults_load_and_cover_every_trigger_kind() -> None:
    campaigns = {c.id: c for c in load_folder(DEFAULTS)}
    assert {c.trigger.kind for c in campaigns.values()} == set(TriggerKind)
    assert sorted(p.stem for p in DEFAULTS.glob("*.yaml")) == sorted(campaigns), "one file per campaign, named by id"
    for campaign in campaigns.values():
        assert campaign.offer.template == campaign.id, "templates are named after their campaign"
        assert campaign.description, f"{campaign.id} says what it does"
    lifecycles = {c.trigger.lifecycle: c.id for c in campaigns.values() if c.trigger.lifecycle is not None}
    assert lifecycles == {Lifecycle.NEW: "welcome", Lifecycle.AT_RISK: "win_back", Lifecycle.DORMANT: "reactivation"}


def test_the_welcome_default_keeps_the_end_to_end_greeting() -> None:
    welcome = {c.id: c for c in load_folder(DEFAULTS)}["welcome"]
    assert welcome.message_type is MessageType.GREETING
    # WeChat first, then email, then SMS: the e2e and demo runs greet over whichever the member has.
    assert welcome.channels == (Channel.WECHAT, Channel.EMAIL, Channel.SMS)
    assert (welcome.priority, welcome.holdout_pct, welcome.cooldown_days) == (10, 0, 0)
    assert welcome.offer.template == "welcome"


def test_the_defaults_make_the_choices_their_comments_explain() -> None:
    campaigns = {c.id: c for c in load_folder(DEFAULTS)}
    win_back = campaigns["win_back"]
    assert win_back.priority == 80
    assert win_back.value_basis is ValueBasis.VALUE_AT_RISK
    assert win_back.offer.coupon_code
    assert win_back.budget.limited
    assert max(c.priority for c in campaigns.values()) == win_back.priority, "the save matters most"
    assert set(campaigns["up_sell"].audience.value_tier) == {ValueTier.VIP, ValueTier.HIGH, ValueTier.MID}
    assert campaigns["replenishment"].deferrable
    keywords = campaigns["community_interest"].trigger.keywords
    assert "奶粉" in keywords["baby_formula"]
    assert "baby formula" in keywords["baby_formula"]
