"""The bench's 50 campaigns: what a regional chain might run, written to a definitions folder.

Most fire on lifecycle transitions (at_risk, dormant, active, reactivated), one per region and
value or engagement group, so their audiences split the members between them; a few national
ones overlap those and make arbitration, queueing and cooldowns happen. Cross-sell and up-sell
fire on sales. Holdout is 10% and budgets are daily caps, as the shipped defaults have them. One
campaign (``bench_latency_welcome``) is phase 2's: only its fresh members are in its audience,
with no holdout, no budget and no consent or frequency cap in the way (a greeting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.campaigns.config import LATENCY_CAMPAIGN, LATENCY_REGION, REGIONS
from services.campaigns.domain.definitions import Campaign, parse_campaign

VALUE_GROUPS = {"top": ["vip", "high"], "mid": ["mid"], "low": ["low"]}
ENGAGEMENT_GROUPS = {"engaged": ["active", "participant"], "lurker": ["lurker"], "silent": ["silent"]}
CROSS_SELL = {"baby": ["baby_formula", "diapers"], "breakfast": ["coffee", "dairy"], "pantry": ["pasta"]}
CROSS_SELL |= {"care": ["shampoo", "skincare"]}


def _campaign(cid: str, trigger: dict[str, Any], priority: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "name": cid.replace("_", " ").capitalize(),
        "trigger": trigger,
        "offer": extra.pop("offer", {"template": cid.split("_")[0], "expires_after_days": 14}),
        "channels": extra.pop("channels", ["wechat", "sms"]),
        "priority": priority,
        "holdout_pct": extra.pop("holdout_pct", 10),
        **extra,
    }


def _coupon(template: str, minor: int, days: float = 14) -> dict[str, Any]:
    return {
        "template": template,
        "coupon_code": template.upper(),
        "coupon_value_minor": minor,
        "expires_after_days": days,
    }


def _lifecycle() -> list[dict[str, Any]]:
    out = []
    for region in REGIONS:
        for n, (group, tiers) in enumerate(VALUE_GROUPS.items()):
            audience: dict[str, Any] = {"regions": [region], "value_tier": tiers}
            audience |= {"min_p_alive": 0.2} if group == "top" else {"min_value_at_risk_minor": 2_000}
            out.append(
                _campaign(
                    f"win_back_{region}_{group}",
                    {"kind": "lifecycle_entered", "lifecycle": "at_risk"},
                    80 - 10 * n,
                    audience=audience,
                    offer=_coupon("win_back", 2_000 - 500 * n),
                    value_basis="value_at_risk",
                    cooldown_days=30,
                    budget={"max_per_day": 400, "coupon_money_minor": 40_000_000},
                )
            )
        for n, (group, tiers) in enumerate(ENGAGEMENT_GROUPS.items()):
            out.append(
                _campaign(
                    f"reactivation_{region}_{group}",
                    {"kind": "lifecycle_entered", "lifecycle": "dormant"},
                    50 - 5 * n,
                    audience={"regions": [region], "engagement_tier": tiers},
                    offer=_coupon("reactivation", 3_000),
                    cooldown_days=60,
                    budget={"max_per_day": 300},
                )
            )
        for n, (group, tiers) in enumerate((("top", ["vip", "high"]), ("rest", ["mid", "low"]))):
            out.append(
                _campaign(
                    f"loyalty_{region}_{group}",
                    {"kind": "lifecycle_entered", "lifecycle": "active"},
                    30 - 10 * n,
                    audience={"regions": [region], "value_tier": tiers},
                    channels=["wechat"],
                    cooldown_days=14,
                    budget={"max_per_day": 1_000},
                )
            )
        out.append(
            _campaign(
                f"welcome_back_{region}",
                {"kind": "lifecycle_entered", "lifecycle": "reactivated"},
                35,
                audience={"regions": [region]},
                offer=_coupon("welcome_back", 1_000, days=10),
                cooldown_days=30,
            )
        )
    return out


def _national() -> list[dict[str, Any]]:
    """Overlapping the regional ones: arbitration, queued offers and a greeting outside the caps."""
    return [
        _campaign(
            "vip_rescue_call",
            {"kind": "lifecycle_entered", "lifecycle": "at_risk"},
            90,
            audience={"value_tier": ["vip"]},
            channels=["sms"],
            deferrable=True,
            cooldown_days=60,
        ),
        _campaign(
            "dormant_last_chance",
            {"kind": "lifecycle_entered", "lifecycle": "dormant"},
            55,
            audience={"min_value_at_risk_minor": 10_000},
            offer=_coupon("last_chance", 5_000),
            deferrable=True,
            budget={"max_per_day": 200, "max_total": 5_000},
        ),
        *(
            _campaign(
                f"welcome_{region}",
                {"kind": "lifecycle_entered", "lifecycle": "new"},
                60,
                audience={"regions": [region]},
                message_type="greeting",
                channels=["wechat"],
            )
            for region in REGIONS[:2]
        ),
        _campaign(
            LATENCY_CAMPAIGN,
            {"kind": "lifecycle_entered", "lifecycle": "new"},
            100,
            audience={"regions": [LATENCY_REGION]},
            message_type="greeting",
            channels=["wechat"],
            holdout_pct=0,
        ),
    ]


def _purchases() -> list[dict[str, Any]]:
    out = [
        _campaign(
            f"cross_sell_{name}",
            {"kind": "cross_sell", "categories": categories},
            45 - 3 * n,
            offer=_coupon("cross_sell", 500, days=7),
            channels=["wechat"],
            value_basis="basket",
            cooldown_days=7,
            budget={"max_per_day": 2_000},
        )
        for n, (name, categories) in enumerate(CROSS_SELL.items())
    ]
    out.append(
        _campaign(
            "cross_sell_engaged",
            {"kind": "cross_sell"},
            30,
            audience={"engagement_tier": ["active", "participant"]},
            offer=_coupon("cross_sell", 800, days=7),
            channels=["wechat"],
            value_basis="basket",
            deferrable=True,
            cooldown_days=14,
        )
    )
    tiers: tuple[tuple[str, list[str], int], ...] = (
        ("premium", ["vip", "high"], 3_000),
        ("mid", ["mid"], 5_000),
        ("all", [], 8_000),
    )
    for n, (name, value_tiers, floor) in enumerate(tiers):
        out.append(
            _campaign(
                f"up_sell_{name}",
                {"kind": "up_sell", "min_line_amount_minor": floor},
                32 - 2 * n,
                audience={"value_tier": value_tiers} if value_tiers else {},
                offer={"template": "up_sell", "expires_after_days": 10},
                channels=["wechat"],
                value_basis="basket",
                cooldown_days=14,
            )
        )
    out.append(
        _campaign(
            "up_sell_care",
            {"kind": "up_sell", "categories": CROSS_SELL["care"], "min_line_amount_minor": 2_000},
            25,
            offer={"template": "up_sell", "expires_after_days": 10},
            channels=["wechat"],
            cooldown_days=21,
        )
    )
    return out


def bench_campaigns() -> list[Campaign]:
    """All 50, validated by the service's own schema."""
    campaigns = [parse_campaign(d) for d in (*_lifecycle(), *_national(), *_purchases())]
    assert len(campaigns) == 50, len(campaigns)
    return campaigns


def subset(campaigns: list[Campaign], size: int) -> list[Campaign]:
    """``size`` of them, every trigger kind and lifecycle represented (phase 3's small configuration)."""
    shapes = {f"{c.trigger.kind}:{c.trigger.lifecycle}": c for c in reversed(campaigns)}
    chosen = {c.id: c for c in shapes.values()}
    for c in campaigns:
        if len(chosen) >= size:
            break
        chosen.setdefault(c.id, c)
    return list(chosen.values())[:size]


def write_folder(folder: Path, campaigns: list[Campaign]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for campaign in campaigns:
        text = yaml.safe_dump(campaign.model_dump(mode="json", exclude_defaults=True), allow_unicode=True)
        (folder / f"{campaign.id}.yaml").write_text(text)
