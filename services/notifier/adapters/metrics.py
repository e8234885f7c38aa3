"""notifier's Prometheus metrics. Labels are channels, statuses and short error codes: a bounded set."""

from prometheus_client import Counter, Gauge, Histogram

OFFERS_PLANNED = Counter(
    "memberpulse_notifier_offers_total",
    "Offers taken in, by first status (queued, deferred, suppressed) and suppression reason",
    ["status", "reason"],
)
SENDS = Counter(
    "memberpulse_notifier_sends_total",
    "Send outcomes by channel and status (sent, failed, suppressed, retrying, delivered)",
    ["channel", "status"],
)
PROVIDER_ERRORS = Counter(
    "memberpulse_notifier_provider_errors_total",
    "Provider failures by channel, kind and code",
    ["channel", "kind", "code"],
)
PROVIDER_LATENCY = Histogram(
    "memberpulse_notifier_provider_call_seconds",
    "Time of one provider call, by channel",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
QUEUE_WAIT = Histogram(
    "memberpulse_notifier_queue_wait_seconds",
    "From the moment a send fell due (queued, quiet hours over, retry time) to its provider call",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RATE_LIMIT_WAITS = Counter(
    "memberpulse_notifier_rate_limit_waits_total", "Times a provider's token bucket was empty", ["channel"]
)
RETRIES = Counter("memberpulse_notifier_retries_total", "Sends scheduled for another attempt", ["channel"])
RESUMED = Counter(
    "memberpulse_notifier_resumed_sends_total", "Sends resumed after another replica's lease ran out", ["channel"]
)
SENDS_DUE = Gauge("memberpulse_notifier_sends_due", "Pending sends whose time has come (queued, deferred, retrying)")
INBOUND = Counter(
    "memberpulse_notifier_inbound_total",
    "Inbound replies, unsubscribes and receipts, by kind and result",
    ["kind", "result"],
)
