"""The notifier process against real provider servers: sends, retries, fallbacks, quiet hours, consent."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx

from services.notifier.domain.messages import Contact
from shared.contracts import Channel, MemberConsentV1, MessageType, NotificationReceiptV1
from shared.signing import signed_headers
from tests.integration.notifier.conftest import INBOUND_SECRET, NotifierRig, offer, phone_of, soon
from tools.provider_sinks import SmtpSink


def _contacts(n: int, prefix: str = "m") -> list[Contact]:
    return [
        Contact(
            member_id=f"{prefix}{i}", phone=phone_of(i), app_user_id=f"app-{prefix}{i}", wechat_openid=f"openid{i:06d}"
        )
        for i in range(n)
    ]


def _by_status(statuses: list[dict[str, Any]]) -> Counter[str]:
    return Counter(f"{s['channel']}/{s['status']}" for s in statuses)


async def test_each_offer_reaches_the_provider_once_even_when_kafka_delivers_it_again(notifier_rig: NotifierRig):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(20))
    offers = [offer(f"m{i}") for i in range(20)]
    rig.start()
    await rig.publish(offers)
    await rig.wait_finished(20)
    await rig.publish(offers)  # redelivered (new event ids, as after an upstream retry)
    await rig.wait_finished(20)

    deliveries = sink.deliveries_for("sms")
    assert sorted(d.idempotency_key for d in deliveries) == sorted(f"{o.offer_id}:sms" for o in offers)
    assert {d.to for d in deliveries} == {phone_of(i) for i in range(20)}
    sends = await rig.sends()
    assert {r["status"] for r in sends.values()} == {"sent"}
    assert all(r["provider_message_id"] for r in sends.values())
    statuses = await rig.statuses()
    assert _by_status(statuses) == {"sms/queued": 20, "sms/sent": 20}


async def test_transient_failures_are_retried_with_backoff_and_a_permanent_one_falls_back_to_the_next_channel(
    notifier_rig: NotifierRig,
):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(2))
    sink.fail_next("sms", 2, 500)
    rig.start()
    await rig.publish([offer("m0")])
    await rig.wait_finished(1)
    calls = [c for c in sink.call_log if c.route == "sms"]
    assert [c.outcome for c in calls] == ["fault:500", "fault:500", "accepted"]
    gaps = [b.t_mono - a.t_mono for a, b in itertools.pairwise(calls)]
    # base 0.5 s, doubling, jitter ±20 %: at least 0.4 s then 0.8 s.
    assert gaps[0] >= 0.4, gaps
    assert gaps[1] >= 0.8, gaps

    sink.fail_next("sms", 1, 400)
    await rig.publish([offer("m1", channels=(Channel.SMS, Channel.WEBHOOK))])
    await rig.wait_finished(3)
    sends = await rig.sends()
    assert sends[("offer-m1-0", "sms")]["status"] == "failed"
    assert sends[("offer-m1-0", "sms")]["error_code"] == "invalid_number"
    assert sends[("offer-m1-0", "webhook")]["status"] == "sent"
    assert [d.to for d in sink.deliveries_for("webhook")] == ["app-m1"]
    assert _by_status(await rig.statuses()) == {
        "sms/queued": 2,
        "sms/sent": 1,
        "sms/failed": 1,
        "webhook/queued": 1,
        "webhook/sent": 1,
    }


async def test_retry_after_from_a_429_is_honoured(notifier_rig: NotifierRig):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(1))
    sink.fail_next("sms", 1, 429, retry_after=2)
    rig.start()
    await rig.publish([offer("m0")])
    await rig.wait_finished(1)
    calls = [c for c in sink.call_log if c.route == "sms"]
    assert [c.outcome for c in calls] == ["fault:429", "accepted"]
    assert calls[1].t_mono - calls[0].t_mono >= 2.0


async def test_a_deferred_send_waits_for_quiet_hours_to_end_even_across_a_restart(notifier_rig: NotifierRig):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(3))
    release = soon(6)
    rig.start()
    await rig.publish([offer(f"m{i}", deliver_after=release) for i in range(3)])
    await asyncio.sleep(2)
    assert sink.deliveries_for("sms") == []
    assert {r["status"] for r in (await rig.sends()).values()} == {"deferred"}
    rig.stop()
    rig.start()
    await rig.wait_finished(3, timeout_s=60)
    arrivals = [d.t_wall for d in sink.deliveries_for("sms")]
    assert len(arrivals) == 3
    assert min(arrivals) >= release.timestamp()
    assert _by_status(await rig.statuses()) == {"sms/deferred": 3, "sms/sent": 3}


async def test_an_opt_out_reply_withdraws_marketing_consent_before_the_next_send(notifier_rig: NotifierRig):
    rig = notifier_rig
    await rig.add_contacts(_contacts(1))
    rig.start()
    body = json.dumps({"from": "138 0000 0000", "text": "退订", "message_id": "in-1"}).encode()
    headers = {**signed_headers(INBOUND_SECRET.encode(), body, time.time()), "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{rig.port()}") as client:
        unsigned = await client.post("/v1/inbound/sms", content=body)
        answer = await client.post("/v1/inbound/sms", content=body, headers=headers)
    assert unsigned.status_code == 401
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": "opted_out", "members": 1}

    await rig.publish(
        [
            offer("m0", 1, message_type=MessageType.MARKETING, template="win_back"),
            offer("m0", 2, message_type=MessageType.GREETING),
        ]
    )
    await rig.wait_finished(2)
    sends = await rig.sends()
    assert sends[("offer-m0-1", "sms")]["status"] == "suppressed"
    assert sends[("offer-m0-1", "sms")]["error_code"] == "no_consent"
    assert sends[("offer-m0-2", "sms")]["status"] == "sent"  # a greeting needs no marketing consent
    [consent] = await rig.consents()
    assert (consent["member_id"], consent["channel"], consent["granted"]) == ("m0", "sms", False)


async def test_an_unsubscribe_link_works_once_and_stops_marketing_on_its_channel(notifier_rig: NotifierRig):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(1))
    rig.start()
    marketing = {"message_type": MessageType.MARKETING, "template": "win_back", "channels": (Channel.WEBHOOK,)}
    await rig.publish(
        [offer("m0", 1, **marketing, variables={"min_spend": "100"}, coupon_code="C1", coupon_value_minor=2000)]
    )
    await rig.wait_finished(1)
    [delivery] = sink.deliveries_for("webhook")
    link = delivery.body["unsubscribe_url"]
    assert link.startswith(f"http://127.0.0.1:{rig.port()}/v1/unsubscribe/")
    async with httpx.AsyncClient() as client:
        first = await client.get(link)
        again = await client.get(link)
        forged = await client.get(link[:-3] + "abc")
    assert (first.status_code, again.status_code, forged.status_code) == (200, 410, 400)

    await rig.publish(
        [offer("m0", 2, **marketing, variables={"min_spend": "100"}, coupon_code="C2", coupon_value_minor=2000)]
    )
    await rig.wait_finished(2)
    assert (await rig.sends())[("offer-m0-2", "webhook")]["error_code"] == "no_consent"
    assert [(c["channel"], c["granted"], c["source"]) for c in await rig.consents()] == [
        ("webhook", False, "unsubscribe_link")
    ]


async def test_a_delivery_receipt_marks_the_send_delivered(notifier_rig: NotifierRig):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(1))
    rig.start()
    await rig.publish([offer("m0")])
    await rig.wait_finished(1)
    [delivery] = sink.deliveries_for("sms")
    body = json.dumps({"message_id": delivery.provider_id, "status": "DELIVRD"}).encode()
    headers = signed_headers(INBOUND_SECRET.encode(), body, time.time())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{rig.port()}") as client:
        applied = await client.post("/v1/receipts/sms", content=body, headers=headers)
        again = await client.post("/v1/receipts/sms", content=body, headers=headers)
    assert (applied.json(), again.json()) == ({"applied": True}, {"applied": False})
    await rig.wait_finished(1)
    assert (await rig.sends())[("offer-m0-0", "sms")]["status"] == "delivered"
    assert _by_status(await rig.statuses())["sms/delivered"] == 1


async def test_offers_no_channel_can_carry_are_suppressed_with_the_reason(notifier_rig: NotifierRig):
    rig = notifier_rig
    await rig.add_contacts([Contact(member_id="m0", phone=phone_of(0))])
    rig.start()
    await rig.publish(
        [
            offer("m0", 1, channels=(Channel.EMAIL,)),  # no SMTP provider configured in this test
            offer("m0", 2, channels=(Channel.WECHAT,)),  # no openid known
            offer("stranger", 3),  # no contact at all
            offer("m0", 4, expires_at=soon(-60)),
        ]
    )
    await rig.wait_finished(4)
    reasons = {key[0]: row["error_code"] for key, row in (await rig.sends()).items()}
    assert reasons == {
        "offer-m0-1": "channel_not_configured",
        "offer-m0-2": "no_contact_point",
        "offer-stranger-3": "no_contact_point",
        "offer-m0-4": "offer_expired",
    }


async def test_consent_events_from_other_sources_are_applied(notifier_rig: NotifierRig):
    rig = notifier_rig
    await rig.add_contacts(_contacts(1))
    rig.start()
    withdrawn = MemberConsentV1(
        member_id="m0", occurred_at=datetime.now(UTC), channel=Channel.SMS, granted=False, source="preference_center"
    )
    await rig.publish([withdrawn])
    await asyncio.sleep(1.0)
    await rig.publish([offer("m0", 1, message_type=MessageType.MARKETING, template="win_back")])
    await rig.wait_finished(1)
    assert (await rig.sends())[("offer-m0-1", "sms")]["error_code"] == "no_consent"


async def test_a_wechat_receipt_relayed_by_ingest_marks_the_message_delivered_or_failed(notifier_rig: NotifierRig):
    rig, sink = notifier_rig, notifier_rig.sink
    await rig.add_contacts(_contacts(2))
    rig.start()
    await rig.publish([offer(f"m{i}", channels=(Channel.WECHAT,)) for i in range(2)])
    await rig.wait_finished(2)
    ids = {d.to: d.provider_id for d in sink.deliveries_for("wechat")}
    await rig.publish(
        [
            NotificationReceiptV1(
                member_id="m0",
                occurred_at=datetime.now(UTC),
                channel=Channel.WECHAT,
                provider_message_id=ids["openid000000"],
                delivered=True,
                provider_status="success",
                source="wechat_oa",
            ),
            NotificationReceiptV1(
                member_id="m1",
                occurred_at=datetime.now(UTC),
                channel=Channel.WECHAT,
                provider_message_id=ids["openid000001"],
                delivered=False,
                provider_status="failed:user block",
                source="wechat_oa",
            ),
        ]
    )
    await rig.wait_finished(2)
    sends = await rig.sends()
    assert sends[("offer-m0-0", "wechat")]["status"] == "delivered"
    assert (sends[("offer-m1-0", "wechat")]["status"], sends[("offer-m1-0", "wechat")]["error_code"]) == (
        "failed",
        "receipt_user_block",
    )
    assert _by_status(await rig.statuses()) == {
        "wechat/queued": 2,
        "wechat/sent": 2,
        "wechat/delivered": 1,
        "wechat/failed": 1,
    }


async def test_marketing_email_goes_over_starttls_with_a_working_list_unsubscribe(notifier_rig: NotifierRig):
    rig = notifier_rig
    await rig.add_contacts([Contact(member_id="m0", email="li.na@example.com", locale="en")])
    with SmtpSink() as smtp:
        email_settings = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": True,
            "ca_file": str(smtp.ca_file),
            "from_address": "club@memberpulse.example",
            "timeout_s": 5.0,
        }
        rig.start(MP_NOTIFIER_EMAIL=json.dumps(email_settings))
        await rig.publish(
            [
                offer(
                    "m0",
                    1,
                    channels=(Channel.EMAIL,),
                    message_type=MessageType.MARKETING,
                    template="win_back",
                    variables={"min_spend": "100"},
                    coupon_code="BACK20",
                    coupon_value_minor=2000,
                )
            ]
        )
        await rig.wait_finished(1)
        [mail] = smtp.messages
    assert mail.tls, "sent after STARTTLS"
    assert mail.rcpt_tos == ["li.na@example.com"]
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(mail.message["List-Unsubscribe"]).strip("<>")
    async with httpx.AsyncClient() as client:
        one_click = await client.post(link)
    assert one_click.status_code == 200
    [consent] = await rig.consents()
    assert (consent["channel"], consent["granted"], consent["source"]) == ("email", False, "unsubscribe_link")
