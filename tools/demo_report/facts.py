"""The facts a demo run hands to the report: plain JSON-able dicts, every section optional.

``Facts`` is the whole document. A section that is missing (or ``None``) is rendered as
"not measured in this run", so a run can fill in what it measured and nothing else.
Counts are integers, rates and shares are fractions in [0, 1], times are ISO 8601 strings.
Series "over time" share one ``months`` axis (``"YYYY-MM"``, oldest first) and each series has
exactly one value per month, measured at that month's end (or, for flows, during that month).
"""

from __future__ import annotations

from typing import Literal, TypedDict


class Run(TypedDict, total=False):
    """What was run: shown in the page header."""

    data: Literal["synthetic", "cdnow"]  # where the members came from: the generated chain or the CDNOW sample
    seed: int | None  # the generator's seed (None for CDNOW)
    members: int  # members in the run
    months: int  # months of history replayed
    history_start: str  # ISO date of the first replayed event
    history_end: str  # ISO date of the last replayed event
    records_published: int  # records the demo published to the ingest topics
    elapsed_s: float  # wall-clock seconds from the first record published to the last notification settled
    started_at: str  # ISO wall-clock time the run started (the only timestamp the report shows)


class TiersOverTime(TypedDict):
    """Members per tier at each month end."""

    months: list[str]  # "YYYY-MM", oldest first
    engagement: dict[str, list[int]]  # engagement tier (active, participant, lurker, silent) -> count per month
    value: dict[str, list[int]]  # value tier (vip, high, mid, low) -> count per month


class LifecycleOverTime(TypedDict):
    """Members per lifecycle state at each month end."""

    months: list[str]
    states: dict[str, list[int]]  # new, active, at_risk, dormant, reactivated -> count per month


# ``from`` is a keyword, hence the functional syntax.
LifecycleFlow = TypedDict("LifecycleFlow", {"from": str, "to": str, "count": int})
"""Lifecycle transitions over the whole run: ``count`` members moved ``from`` one state ``to`` another."""


class ChurnWarningsOverTime(TypedDict):
    """Members entering at_risk each month, by the (first) reason code of the transition."""

    months: list[str]
    by_reason: dict[str, list[int]]  # reason code (overdue_vs_own_cadence, complaint, ...) -> count per month


class ChurnRecovery(TypedDict):
    """How well churn warnings anticipated the members who really churned."""

    true_churners: int  # members who churned, by ``definition``
    warned: int  # members who got at least one churn warning
    warned_and_churned: int  # warned members who then churned
    precision: float | None  # warned_and_churned / warned (None when nobody was warned)
    recall: float | None  # warned_and_churned / true_churners (None when nobody churned)
    median_lead_days: float | None  # median days from the first warning to the churn date
    definition: str  # what "churned" means here, in one sentence


class MembersNow(TypedDict, total=False):
    """Members per tier and state at the end of the run."""

    engagement: dict[str, int]  # engagement tier -> members
    value: dict[str, int]  # value tier -> members
    lifecycle: dict[str, int]  # lifecycle state -> members


class OffersByKind(TypedDict):
    """Campaign decisions for one campaign and offer kind."""

    campaign: str  # campaign name
    kind: str  # offer kind (coupon, points, message, ...)
    decided: int  # candidates decided (issued + holdout + suppressed + queued)
    issued: int  # offers issued
    holdout: int  # candidates kept as holdout (no offer, counted for uplift)
    suppressed: int  # candidates not issued for a guard (consent, cap, budget, ...)
    queued: int  # candidates still waiting (quiet hours, arbitration) at the end


class Suppression(TypedDict):
    """Why offers or messages were not sent."""

    stage: Literal["campaigns", "notifier"]  # who suppressed
    reason: str  # reason code (cooldown, frequency_cap, no_consent, ...)
    count: int


class FunnelStage(TypedDict):
    """One campaign's funnel: each stage counts the members who reached it."""

    campaign: str
    decided: int
    issued: int
    sent: int
    delivered: int
    converted: int


class Uplift(TypedDict):
    """Conversion offered vs holdout for one campaign; rates and the interval are fractions."""

    campaign: str
    offered: int  # members offered
    offered_converted: int  # offered members who converted
    holdout: int  # members held out
    holdout_converted: int  # held-out members who converted anyway
    rate_offered: float  # offered_converted / offered
    rate_holdout: float  # holdout_converted / holdout
    uplift: float  # rate_offered - rate_holdout
    ci_low: float  # 95 % interval of the difference (Newcombe), lower bound
    ci_high: float  # upper bound


class Delivery(TypedDict):
    """Notifier outcomes: ``count`` messages on ``channel`` ended in ``status``."""

    channel: str  # email, sms, push, ...
    status: str  # sent, delivered, failed, suppressed, deferred, ...
    count: int


class DeadLetters(TypedDict):
    """Records dead-lettered for ``reason``: ``count`` seen vs ``planted`` by the generator."""

    reason: str
    count: int
    planted: int | None  # None when the generator does not know


class Accounting(TypedDict):
    """The books: every issued offer ends somewhere, every planted bad record is caught."""

    offers_issued: int
    notifier_sent: int
    notifier_failed: int
    notifier_suppressed: int
    notifier_pending: int
    balanced: bool  # offers_issued == sent + failed + suppressed + pending
    dlq_seen: int  # dead-lettered records seen
    dlq_planted: int  # bad records the generator planted
    dlq_balanced: bool  # dlq_seen == dlq_planted
    duplicates_planted: int  # duplicate records the generator planted
    duplicates_dropped: int  # duplicates ingest dropped


class ThroughputSample(TypedDict):
    """One sample of the pipeline's progress, ``t_s`` seconds after the run started."""

    t_s: float
    published: int  # records published so far
    ingest_done: int  # records each service has finished so far
    scoring_done: int
    campaigns_done: int
    notifier_done: int
    lag: dict[str, int]  # service -> consumer lag (records) at that moment


class ServiceThroughput(TypedDict):
    """Records one service processed in how many seconds."""

    records: int
    seconds: float
    per_s: float


class Throughput(TypedDict):
    samples: list[ThroughputSample]  # oldest first
    per_service: dict[str, ServiceThroughput]  # service -> totals


class BgNbdParams(TypedDict):
    """BG/NBD parameters and the log-likelihood of the fit."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


class BgNbd(TypedDict):
    """Scoring's BG/NBD fit vs a published reference (Fader, Hardie and Lee's CDNOW fit)."""

    fitted: BgNbdParams
    published: BgNbdParams | None  # None when there is no reference for this data
    members: int  # members the fit used
    units: Literal["weeks", "days"]  # the time unit of alpha


class Endpoint(TypedDict):
    """A link worth opening while the stack runs (dashboards, /metrics, docs)."""

    name: str
    url: str


class Facts(TypedDict, total=False):
    """Everything the report can show; every key is optional."""

    run: Run
    tiers_over_time: TiersOverTime
    lifecycle_over_time: LifecycleOverTime
    lifecycle_flows: list[LifecycleFlow]
    churn_warnings_over_time: ChurnWarningsOverTime
    churn_recovery: ChurnRecovery
    habit_recovery: dict[str, dict[str, int]]  # planted chat habit -> final engagement tier -> members (never churned)
    members_now: MembersNow
    churn_reasons_now: dict[str, int]  # reason code -> members at_risk for it at the end
    offers_by_kind: list[OffersByKind]
    suppressions: list[Suppression]
    funnel: list[FunnelStage]
    uplift: list[Uplift]
    delivery: list[Delivery]
    dlq: list[DeadLetters]
    accounting: Accounting
    throughput: Throughput
    bgnbd: BgNbd
    endpoints: list[Endpoint]
