"""Where the demo keeps things, its ports and secrets, and the settings it runs each service with.

The secrets are the demo's own, for a stack on 127.0.0.1 that nobody else reaches. Production
sets its own through the same ``MP_*`` variables (docs/*.md list them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shared.settings import DEFAULT_HTTP_PORTS
from tools.provider_sinks import SMS_AUTH, WEBHOOK_SECRET, WECHAT_APPID, WECHAT_SECRET
from tools.services import REPO_ROOT

__all__ = ["LOG_DIR", "OUT_DIR", "REPO_ROOT", "STATE_DIR"]

OUT_DIR = REPO_ROOT / "out"
LOG_DIR = OUT_DIR / "logs"
# Pid files of the processes the demo leaves running; ``make down`` stops them.
STATE_DIR = REPO_ROOT / ".stack" / "demo"

SINK_PORT = 8090
SMTP_PORT = 8025
MANAGEMENT_TOKEN = "demo-management-token"  # noqa: S105 - the local demo's own
INGEST_WEBHOOK_SECRET = "demo-ecom-webhook-secret"  # noqa: S105
WECHAT_ACCOUNT = "gh_demo_chain"
WECHAT_CALLBACK_TOKEN = "demo-wechat-callback-token"  # noqa: S105
UNSUBSCRIBE_SECRET = "demo-unsubscribe-secret"  # noqa: S105
INBOUND_SECRET = "demo-inbound-secret"  # noqa: S105
# Generous enough that the providers' limits never hold the demo up on this machine.
RATE_PER_SECOND = 400.0


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str


def service_url(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_HTTP_PORTS[service]}"


def sink_url() -> str:
    return f"http://127.0.0.1:{SINK_PORT}"


def service_env(smtp_ca_file: Path) -> dict[str, str]:
    """Every service's settings for the demo (each reads only its own ``MP_<SERVICE>_*``)."""
    sink = sink_url()
    limits = {
        name: {"per_second": RATE_PER_SECOND, "burst": RATE_PER_SECOND / 10}
        for name in ("sms", "wechat", "email", "webhook")
    }
    return {
        "MP_HTTP_MANAGEMENT_TOKEN": MANAGEMENT_TOKEN,
        "MP_LOG_LEVEL": "WARNING",
        # ingest: the web shop posts its orders to the signed webhook; one WeChat account's callback.
        "MP_INGEST_WEBHOOK_SECRETS": json.dumps({"ecom_order": INGEST_WEBHOOK_SECRET}),
        "MP_INGEST_WECHAT_TOKENS": json.dumps({WECHAT_ACCOUNT: WECHAT_CALLBACK_TOKEN}),
        # scoring and campaigns: a year of history replayed, so only events move time; the value
        # tiers are recomputed by the demo at fixed points of event time, not by a wall-clock schedule.
        "MP_SCORING_LIVE_CLOCK": "false",
        # The live part replays months in seconds: a few milliseconds between two partitions are
        # hours of event time. Each event-time-ordered consumer waits up to a second for a
        # partition read to its end before records newer than it go ahead (docs/demo.md).
        "MP_KAFKA_MAX_IDLE_MS": "1000",
        "MP_SCORING_RFM_REFRESH_SECONDS": "0",
        # Campaigns decides on the sweeper's timed transitions in event-time order, so the same seed
        # gives the same offers; in a replay the lateness it costs is milliseconds (docs/demo.md).
        "MP_SCORING_MARKS_AWAIT_REVIEWS": "true",
        "MP_SCORING_POLICY_RELOAD_SECONDS": "1",
        "MP_CAMPAIGNS_LIVE_CLOCK": "false",
        # campaigns reads its inputs in step by event time, so in a replay nothing comes late, and a
        # timer fires with the triggers of its own moment instead of a minute of event time after.
        "MP_CAMPAIGNS_ALLOWED_LATENESS_SECONDS": "0",
        # notifier: every channel, over its real protocol, to the local sinks.
        "MP_NOTIFIER_SMS": json.dumps({"url": f"{sink}/sms/send", "auth_value": SMS_AUTH}),
        "MP_NOTIFIER_WECHAT": json.dumps(
            {
                "base_url": sink,
                "appid": WECHAT_APPID,
                "secret": WECHAT_SECRET,
                "template_ids": {t: f"demo-{t}" for t in ("greeting", "notification", "narrative", "marketing")},
            }
        ),
        "MP_NOTIFIER_EMAIL": json.dumps(
            {
                "host": "127.0.0.1",
                "port": SMTP_PORT,
                "starttls": True,
                "ca_file": str(smtp_ca_file),
                "from_address": "hello@demo-chain.example",
                "from_name": "Demo Chain",
            }
        ),
        "MP_NOTIFIER_WEBHOOK": json.dumps({"url": f"{sink}/webhook", "secret": WEBHOOK_SECRET}),
        "MP_NOTIFIER_RATE_LIMITS": json.dumps(limits),
        "MP_NOTIFIER_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET,
        "MP_NOTIFIER_INBOUND_SECRET": INBOUND_SECRET,
    }


def endpoints() -> list[Endpoint]:
    listed = []
    for service in DEFAULT_HTTP_PORTS:
        listed.append(Endpoint(f"{service} metrics", f"{service_url(service)}/metrics"))
    return [
        *listed,
        Endpoint("ingest webhook (signed)", f"{service_url('ingest')}/v1/events/ecom_order"),
        Endpoint("ingest WeChat callback", f"{service_url('ingest')}/v1/wechat/{WECHAT_ACCOUNT}"),
        Endpoint("scoring member API (token)", f"{service_url('scoring')}/v1/members/<member_id>"),
        Endpoint("campaigns API (token)", f"{service_url('campaigns')}/v1/campaigns"),
        Endpoint("notifier inbound SMS (signed)", f"{service_url('notifier')}/v1/inbound/sms"),
        Endpoint("provider sink stats", f"{sink_url()}/_sink/stats"),
        Endpoint("SMTP sink", f"smtp://127.0.0.1:{SMTP_PORT}"),
    ]
