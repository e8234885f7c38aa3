"""P(alive), expected purchases, customer value and value at risk for many members at once.

Vectorised over a batch: the value sum evaluates the forecast once per monthly step, so doing
it member by member would cost a batch dozens of times more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.scoring.domain import bgnbd
from services.scoring.domain.member import MemberState, evolve
from services.scoring.domain.policy import Policy
from services.scoring.domain.timeline import days_between
from services.scoring.domain.value import customer_value, value_at_risk


def with_scores(states: Sequence[MemberState], policy: Policy, *, value: bool = True) -> list[MemberState]:
    """The states with their scores filled at their own clocks; members who never bought get none.

    ``value=False`` fills P(alive) and expected purchases only and leaves customer value and value
    at risk as they were: the value sum evaluates the forecast once per monthly step over the
    horizon, so it is kept for the states that are published.
    """
    buyers = [i for i, s in enumerate(states) if s.first_purchase_at is not None and s.last_purchase_at is not None]
    buyer_set = set(buyers)
    scored = list(states)
    for i, state in enumerate(states):
        if i not in buyer_set and (state.p_alive, state.clv_minor) != (None, None):
            scored[i] = evolve(state, p_alive=None, expected_purchases=None, clv_minor=None, value_at_risk_minor=None)
    if not buyers:
        return scored
    chosen = [states[i] for i in buyers]
    x = np.array([s.repeat_purchases() for s in chosen], dtype=np.float64)
    t_x = np.array([days_between(s.first_purchase_at, s.last_purchase_at) for s in chosen])  # type: ignore[arg-type]
    big_t = np.maximum(t_x, [days_between(s.first_purchase_at, s.clock) for s in chosen])  # type: ignore[arg-type]
    # Refunds can take a member's net spend to zero or below; the spend model needs a positive
    # mean, and one minor unit says "worth nearly nothing" without failing the batch.
    mean_spend = np.array([max(1.0, s.net_spend_minor / s.sales) for s in chosen], dtype=np.float64)
    model, value_rules = policy.model, policy.rules.value
    alive = bgnbd.p_alive(model.bgnbd, x, t_x, big_t)
    expected = bgnbd.expected_purchases(model.bgnbd, value_rules.forecast_days, x, t_x, big_t)
    if not value:
        for n, i in enumerate(buyers):
            scored[i] = evolve(scored[i], p_alive=float(alive[n]), expected_purchases=float(expected[n]))
        return scored
    worth = customer_value(
        model.bgnbd,
        model.spend,
        x,
        t_x,
        big_t,
        mean_spend,
        horizon_periods=value_rules.horizon_days,
        periods_per_step=value_rules.step_days,
        discount_rate_per_step=value_rules.discount_per_step,
    )
    # The value already counts P(alive) in; what is lost if the member has gone is the value they
    # would bring while alive, so the risk is taken on that (value / P(alive)).
    at_risk = value_at_risk(worth / np.maximum(alive, 1e-12), alive)
    for n, i in enumerate(buyers):
        scored[i] = evolve(
            scored[i],
            p_alive=float(alive[n]),
            expected_purchases=float(expected[n]),
            clv_minor=round(float(worth[n])),
            value_at_risk_minor=round(float(at_risk[n])),
        )
    return scored
