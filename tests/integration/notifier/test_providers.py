"""Channel adapters against real local servers: the HTTP provider sink and an SMTP server with STARTTLS.

No Kafka or Postgres: these use none of the stack fixtures, only servers started here on ephemeral ports.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.notifier.adapters.providers import (
    HttpSmsGateway,
    Provider,
    SignedWebhook,
    SmsGatewaySettings,
    SmtpEmail,
    SmtpSettings,
    WebhookSettings,
    WeChatOfficialAccount,
    WeChatSettings,
    build_provider,
)
from services.notifier.domain.messages import Accepted, Failure, FailureKind, RenderedMessage
from shared.contracts import Channel, MessageType
from tools.provider_sinks import (
    SMS_AUTH,
    WEBHOOK_SECRET,
    WECHAT_APPID,
    WECHAT_SECRET,
    ProviderSink,
    SinkProcess,
    SmtpSink,
)

OPENID = "oAbCdEf1234567890xyz"


@pytest.fixture(scope="module")
def sink() -> Iterator[ProviderSink]:
    with ProviderSink() as running:
        yield running


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_sink(sink: ProviderSink) -> None:
    sink.reset()


def sms_settings(sink: ProviderSink, **overrides: object) -> SmsGatewaySettings:
    fields: dict[str, object] = {"url": sink.sms_url, "auth_value": SecretStr(SMS_AUTH), "timeout_s": 2.0}
    return SmsGatewaySettings.model_validate({**fields, **overrides})


@pytest.fixture
async def sms(sink: ProviderSink) -> AsyncIterator[HttpSmsGateway]:
    gateway = HttpSmsGateway(sms_settings(sink, timeout_s=0.5))
    yield gateway
    await gateway.aclose()


def wechat_settings(sink: ProviderSink, **overrides: object) -> WeChatSettings:
    fields: dict[str, object] = {
        "base_url": sink.wechat_base_url,
        "appid": WECHAT_APPID,
        "secret": SecretStr(WECHAT_SECRET),
        "template_ids": {MessageType.NOTIFICATION: "tmpl-notice", MessageType.MARKETING: "tmpl-promo"},
        "timeout_s": 2.0,
    }
    return WeChatSettings.model_validate({**fields, **overrides})


@pytest.fixture
async def wechat(sink: ProviderSink) -> AsyncIterator[WeChatOfficialAccount]:
    account = WeChatOfficialAccount(wechat_settings(sink))
    yield account
    await account.aclose()


@pytest.fixture
async def mailer(smtp_sink: SmtpSink) -> AsyncIterator[SmtpEmail]:
    smtp_sink.reset()
    adapter = SmtpEmail(
        SmtpSettings(
            host="127.0.0.1",
            port=smtp_sink.port,
            starttls=True,
            ca_file=smtp_sink.ca_file,
            from_address="club@memberpulse.example",
            from_name="会员中心",
            timeout_s=5.0,
        )
    )
    yield adapter
    await adapter.aclose()


def sms_message(key: str = "offer-1:sms", to: str = "+8613800138000") -> RenderedMessage:
    return RenderedMessage(Channel.SMS, to, "zh-CN", "您的优惠券已到账，回复TD退订", idempotency_key=key)


def wechat_message(key: str = "offer-1:wechat", to: str = OPENID) -> RenderedMessage:
    return RenderedMessage(
        Channel.WECHAT,
        to,
        "zh-CN",
        "满100减20，本周有效",
        subject="您有一张新优惠券",
        idempotency_key=key,
        data={"remark": "点击查看详情", "keyword2": "2030-01-31"},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- SMS gateway -------------------------------------------------------------------------------------------------


async def test_sms_accepted_with_gateway_id_and_idempotency_key(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    result = await sms.send(sms_message("offer-42:sms"))

    assert result == Accepted("sms-1")
    [delivery] = sink.deliveries
    assert delivery.channel == "sms"
    assert delivery.idempotency_key == "offer-42:sms"
    assert delivery.body == {
        "to": "+8613800138000",
        "text": "您的优惠券已到账，回复TD退订",
        "client_ref": "offer-42:sms",
    }


async def test_sms_500_is_transient(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    sink.fail_next("sms", 1, 500)

    failed = await sms.send(sms_message())
    retried = await sms.send(sms_message())

    assert isinstance(failed, Failure)
    assert (failed.kind, failed.code) == (FailureKind.TRANSIENT, "http_500")
    assert isinstance(retried, Accepted)
    assert len(sink.deliveries) == 1


async def test_sms_429_carries_retry_after(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    sink.fail_next("sms", 1, 429, retry_after=7)

    result = await sms.send(sms_message())

    assert isinstance(result, Failure)
    assert (result.kind, result.code, result.retry_after_s) == (FailureKind.TRANSIENT, "http_429", 7.0)


async def test_sms_503_with_http_date_retry_after(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    sink.fail_next("sms", 1, 503, retry_after=email.utils.formatdate(time.time() + 30, usegmt=True))

    result = await sms.send(sms_message())

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.TRANSIENT, "http_503")
    assert result.retry_after_s is not None
    assert 25 <= result.retry_after_s <= 31


async def test_sms_timeout_is_transient(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    sink.fail_next("sms", 1, "timeout", delay_s=3)
    started = time.monotonic()

    result = await sms.send(sms_message())

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.TRANSIENT, "timeout")
    assert time.monotonic() - started < 2.0  # the client's 0.5 s, not the sink's 3 s
    assert sink.deliveries == []


async def test_sms_slow_answer_within_timeout_is_accepted(sink: ProviderSink) -> None:
    gateway = HttpSmsGateway(sms_settings(sink, timeout_s=2.0))
    sink.fail_next("sms", 1, "slow", delay_s=0.3)
    try:
        assert isinstance(await gateway.send(sms_message()), Accepted)
    finally:
        await gateway.aclose()
    assert sink.calls == {"sms": 1}


async def test_sms_connection_reset_is_transient(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    assert isinstance(await sms.send(sms_message("warm-up:sms")), Accepted)  # a pooled keep-alive connection
    sink.fail_next("sms", 1, "reset")

    result = await sms.send(sms_message())

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.TRANSIENT, "connection_reset")
    assert isinstance(await sms.send(sms_message()), Accepted)  # the pool recovers


async def test_sms_gateway_error_code_is_permanent(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    sink.fail_next("sms", 1, 400)  # the gateway's {"error": "invalid_number"}

    from_fault = await sms.send(sms_message())
    from_gateway = await sms.send(sms_message("offer-2:sms", to="12345"))  # the sink's own E.164 check

    for result in (from_fault, from_gateway):
        assert isinstance(result, Failure)
        assert (result.kind, result.code) == (FailureKind.PERMANENT, "invalid_number")
    assert sink.deliveries == []


async def test_sms_wrong_credentials_are_permanent(sink: ProviderSink) -> None:
    gateway = HttpSmsGateway(sms_settings(sink, auth_value=SecretStr("Bearer wrong")))
    try:
        result = await gateway.send(sms_message())
    finally:
        await gateway.aclose()

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.PERMANENT, "unauthorized")


async def test_sms_duplicate_idempotency_key_reaches_the_sink_once(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    first = await sms.send(sms_message("offer-7:sms"))
    again = await sms.send(sms_message("offer-7:sms"))

    assert first == again == Accepted("sms-1")
    assert len(sink.deliveries) == 1
    assert sink.duplicates_absorbed == 1


async def test_sms_timeout_after_the_gateway_accepted_is_one_delivery(sms: HttpSmsGateway, sink: ProviderSink) -> None:
    # The ambiguous case: the gateway took the message but the answer never came back.
    sink.fail_next("sms", 1, "timeout", delay_s=3, processed=True)

    lost = await sms.send(sms_message("offer-8:sms"))
    retried = await sms.send(sms_message("offer-8:sms"))

    assert isinstance(lost, Failure)
    assert lost.code == "timeout"
    assert retried == Accepted(sink.deliveries[0].provider_id)
    assert len(sink.deliveries) == 1
    assert sink.duplicates_absorbed == 1


def test_sms_payload_mapping_is_configurable(sink: ProviderSink) -> None:
    settings = sms_settings(
        sink,
        payload={"recipient": "to", "message.body": "text", "message.from": "sender_id", "ref": "idempotency_key"},
        static_fields={"account": "acme-retail"},
        sender_id="ACME",
    )

    body = HttpSmsGateway(settings).payload(sms_message("k1"))

    assert body == {
        "account": "acme-retail",
        "recipient": "+8613800138000",
        "message": {"body": "您的优惠券已到账，回复TD退订", "from": "ACME"},
        "ref": "k1",
    }


# -- WeChat Official Account ---------------------------------------------------------------------------------------


async def test_wechat_token_fetched_once_for_50_concurrent_sends(
    wechat: WeChatOfficialAccount, sink: ProviderSink
) -> None:
    results = await asyncio.gather(*(wechat.send(wechat_message(f"offer-{i}:wechat")) for i in range(50)))

    assert all(isinstance(result, Accepted) for result in results)
    assert sink.calls["wechat_token"] == 1
    assert wechat.token_fetches == 1
    assert len(sink.deliveries_for("wechat")) == 50
    body = sink.deliveries_for("wechat")[0].body
    assert body["touser"] == OPENID
    assert body["template_id"] == "tmpl-notice"
    assert body["client_msg_id"].startswith("offer-")
    assert body["data"]["first"] == {"value": "您有一张新优惠券"}
    assert body["data"]["keyword1"] == {"value": "满100减20，本周有效"}
    assert body["data"]["keyword2"] == {"value": "2030-01-31"}
    assert body["data"]["remark"] == {"value": "点击查看详情"}


async def test_wechat_token_refreshed_on_40001_and_send_succeeds(
    wechat: WeChatOfficialAccount, sink: ProviderSink
) -> None:
    assert isinstance(await wechat.send(wechat_message("offer-1:wechat")), Accepted)
    sink.expire_tokens()

    result = await wechat.send(wechat_message("offer-2:wechat"))

    assert isinstance(result, Accepted)
    assert sink.calls["wechat_token"] == 2
    assert [call.outcome for call in sink.call_log if call.route == "wechat_send"] == [
        "accepted",
        "rejected:40001",
        "accepted",
    ]


async def test_wechat_concurrent_sends_after_revocation_refresh_the_token_once(
    wechat: WeChatOfficialAccount, sink: ProviderSink
) -> None:
    assert isinstance(await wechat.send(wechat_message("warm-up:wechat")), Accepted)
    sink.expire_tokens()

    results = await asyncio.gather(*(wechat.send(wechat_message(f"offer-{i}:wechat")) for i in range(30)))

    assert all(isinstance(result, Accepted) for result in results)
    assert sink.calls["wechat_token"] == 2
    assert len(sink.deliveries_for("wechat")) == 31


async def test_wechat_token_error_twice_is_transient(wechat: WeChatOfficialAccount, sink: ProviderSink) -> None:
    sink.fail_next("wechat_send", 2, errcode=42001)

    result = await wechat.send(wechat_message())

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.TRANSIENT, "wechat_42001")
    assert sink.calls["wechat_token"] == 2  # one refresh, not a loop


async def test_wechat_user_not_subscribed_is_permanent(wechat: WeChatOfficialAccount, sink: ProviderSink) -> None:
    sink.unsubscribe_openid(OPENID)

    result = await wechat.send(wechat_message())

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.PERMANENT, "wechat_43004")


async def test_wechat_busy_and_quota_are_transient(wechat: WeChatOfficialAccount, sink: ProviderSink) -> None:
    sink.fail_next("wechat_send", 1, errcode=-1)
    sink.fail_next("wechat_send", 1, errcode=45009)

    busy = await wechat.send(wechat_message())
    quota = await wechat.send(wechat_message())

    assert isinstance(busy, Failure)
    assert isinstance(quota, Failure)
    assert (busy.kind, busy.code) == (FailureKind.TRANSIENT, "wechat_-1")
    assert (quota.kind, quota.code) == (FailureKind.TRANSIENT, "wechat_45009")


async def test_wechat_token_refetched_after_expiry(sink: ProviderSink) -> None:
    now = [1000.0]
    account = WeChatOfficialAccount(wechat_settings(sink), clock=lambda: now[0])
    try:
        assert isinstance(await account.send(wechat_message("a:wechat")), Accepted)
        now[0] += 7200 - 300 - 1  # within expires_in minus the 300 s margin: cached
        assert isinstance(await account.send(wechat_message("b:wechat")), Accepted)
        assert sink.calls["wechat_token"] == 1
        now[0] += 2  # past it: fetched again before sending
        assert isinstance(await account.send(wechat_message("c:wechat")), Accepted)
    finally:
        await account.aclose()

    assert sink.calls["wechat_token"] == 2
    assert sink.calls["wechat_send"] == 3


async def test_wechat_client_msg_id_dedupes(wechat: WeChatOfficialAccount, sink: ProviderSink) -> None:
    first = await wechat.send(wechat_message("offer-9:wechat"))
    again = await wechat.send(wechat_message("offer-9:wechat"))

    assert isinstance(first, Accepted)
    assert first == again
    assert len(sink.deliveries) == 1
    assert sink.duplicates_absorbed == 1


async def test_wechat_wrong_secret_is_permanent(sink: ProviderSink) -> None:
    account = WeChatOfficialAccount(wechat_settings(sink, secret=SecretStr("not-the-secret")))
    try:
        result = await account.send(wechat_message())
    finally:
        await account.aclose()

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.PERMANENT, "wechat_token_40125")
    assert sink.calls.get("wechat_send", 0) == 0


async def test_wechat_message_type_without_template_is_permanent(wechat: WeChatOfficialAccount) -> None:
    message = RenderedMessage(Channel.WECHAT, OPENID, "zh-CN", "生日快乐", message_type=MessageType.GREETING)

    result = await wechat.send(message)

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.PERMANENT, "wechat_no_template")


# -- Email over SMTP --------------------------------------------------------------------------------------------


async def test_email_over_starttls_multipart_with_unsubscribe_and_encoded_subject(
    mailer: SmtpEmail, smtp_sink: SmtpSink
) -> None:
    message = RenderedMessage(
        Channel.EMAIL,
        "li.wei@example.com",
        "zh-CN",
        "满100减20，本周有效。\n退订：https://club.example/u/tok123",
        subject="您的专属优惠券",
        html="<html><body><p>满100减20，本周有效。</p></body></html>",
        idempotency_key="offer-5:email",
        unsubscribe_url="https://club.example/u/tok123",
        message_type=MessageType.MARKETING,
    )

    result = await mailer.send(message)

    expected_id = f"<{hashlib.sha256(b'offer-5:email').hexdigest()[:32]}@memberpulse.example>"
    assert result == Accepted(expected_id)
    [mail] = smtp_sink.messages
    assert mail.tls, "the session was upgraded with STARTTLS"
    assert mail.rcpt_tos == ["li.wei@example.com"]
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers are RFC 2047 encoded, not raw UTF-8"
    assert b"Subject: =?utf-8?" in head
    parsed = mail.message
    assert parsed["Subject"] == "您的专属优惠券"
    assert parsed["From"].addresses[0].display_name == "会员中心"
    assert parsed["Message-ID"] == expected_id
    assert parsed["List-Unsubscribe"] == "<https://club.example/u/tok123>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Content-Language"] == "zh-CN"
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "满100减20" in plain.get_content()
    assert "满100减20" in html.get_content()


async def test_email_rtl_html_gets_dir_rtl(mailer: SmtpEmail, smtp_sink: SmtpSink) -> None:
    message = RenderedMessage(
        Channel.EMAIL,
        "sara@example.com",
        "fa",
        "تخفیف ویژه برای شما",
        subject="پیشنهاد ویژه",
        html='<html><body class="offer"><p>تخفیف ویژه برای شما</p></body></html>',
        idempotency_key="offer-6:email",
        direction="rtl",
    )

    assert isinstance(await mailer.send(message), Accepted)

    [mail] = smtp_sink.messages
    assert mail.message["Subject"] == "پیشنهاد ویژه"
    assert mail.message["Content-Language"] == "fa"
    _, html = mail.message.iter_parts()
    assert '<body dir="rtl" class="offer">' in html.get_content()


async def test_smtp_550_is_permanent_and_451_transient(mailer: SmtpEmail, smtp_sink: SmtpSink) -> None:
    message = RenderedMessage(Channel.EMAIL, "a@example.com", "en", "hi", subject="Hi", idempotency_key="o:email")
    smtp_sink.fail_next(1, 550)
    smtp_sink.fail_next(1, 451)
    smtp_sink.fail_next(1, 550, stage="rcpt")

    rejected = await mailer.send(message)
    deferred = await mailer.send(message)
    unknown_user = await mailer.send(message)
    delivered = await mailer.send(message)

    assert isinstance(rejected, Failure)
    assert isinstance(deferred, Failure)
    assert isinstance(unknown_user, Failure)
    assert (rejected.kind, rejected.code) == (FailureKind.PERMANENT, "smtp_550")
    assert (deferred.kind, deferred.code) == (FailureKind.TRANSIENT, "smtp_451")
    assert (unknown_user.kind, unknown_user.code) == (FailureKind.PERMANENT, "smtp_550")
    assert isinstance(delivered, Accepted)
    assert len(smtp_sink.messages) == 1
    assert mailer.connects == 1, "a refusal resets the transaction; the session is reused"


async def test_smtp_unreachable_is_transient() -> None:
    adapter = SmtpEmail(SmtpSettings(host="127.0.0.1", port=free_port(), from_address="club@x.example", timeout_s=2))
    message = RenderedMessage(Channel.EMAIL, "a@example.com", "en", "hi", subject="Hi")

    result = await adapter.send(message)
    await adapter.aclose()

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.TRANSIENT, "connection_error")


async def test_marketing_email_without_unsubscribe_is_refused(mailer: SmtpEmail, smtp_sink: SmtpSink) -> None:
    message = RenderedMessage(
        Channel.EMAIL, "a@example.com", "en", "Sale!", subject="Sale", message_type=MessageType.MARKETING
    )

    result = await mailer.send(message)

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.PERMANENT, "missing_unsubscribe")
    assert smtp_sink.messages == []


async def test_smtp_sessions_are_reused(mailer: SmtpEmail, smtp_sink: SmtpSink) -> None:
    for i in range(5):
        message = RenderedMessage(Channel.EMAIL, "a@example.com", "en", "hi", subject="Hi", idempotency_key=f"{i}")
        assert isinstance(await mailer.send(message), Accepted)

    assert len(smtp_sink.messages) == 5
    assert mailer.connects == 1


# -- Signed webhook ---------------------------------------------------------------------------------------------


def webhook_message() -> RenderedMessage:
    return RenderedMessage(
        Channel.WEBHOOK,
        "app-user-77",
        "fa",
        "تخفیف ویژه",
        subject="پیشنهاد",
        idempotency_key="offer-3:webhook",
        unsubscribe_url="https://club.example/u/t",
        message_type=MessageType.MARKETING,
        direction="rtl",
        data={"coupon_code": "SAVE20"},
    )


async def test_webhook_signature_verifies_at_the_sink(sink: ProviderSink) -> None:
    hook = SignedWebhook(WebhookSettings(url=sink.webhook_url, secret=SecretStr(WEBHOOK_SECRET)))
    try:
        first = await hook.send(webhook_message())
        again = await hook.send(webhook_message())
    finally:
        await hook.aclose()

    assert first == again == Accepted("wh-1")
    [delivery] = sink.deliveries
    assert delivery.body == {
        "id": "offer-3:webhook",
        "channel": "webhook",
        "to": "app-user-77",
        "title": "پیشنهاد",
        "text": "تخفیف ویژه",
        "locale": "fa",
        "direction": "rtl",
        "message_type": "marketing",
        "unsubscribe_url": "https://club.example/u/t",
        "data": {"coupon_code": "SAVE20"},
    }
    assert sink.duplicates_absorbed == 1


async def test_webhook_wrong_secret_is_rejected_permanently(sink: ProviderSink) -> None:
    hook = SignedWebhook(WebhookSettings(url=sink.webhook_url, secret=SecretStr("not-the-secret")))
    try:
        result = await hook.send(webhook_message())
    finally:
        await hook.aclose()

    assert isinstance(result, Failure)
    assert (result.kind, result.code) == (FailureKind.PERMANENT, "http_401")
    assert sink.deliveries == []
    assert [call.outcome for call in sink.call_log] == ["rejected:401"]


async def test_webhook_stale_timestamp_is_rejected(sink: ProviderSink) -> None:
    settings = WebhookSettings(url=sink.webhook_url, secret=SecretStr(WEBHOOK_SECRET))
    hook = SignedWebhook(settings, wall_clock=lambda: time.time() - 3600)
    try:
        result = await hook.send(webhook_message())
    finally:
        await hook.aclose()

    assert isinstance(result, Failure)
    assert result.code == "http_401"


# -- Wiring and the sink as its own process ---------------------------------------------------------------------


async def test_build_provider_from_settings(sink: ProviderSink) -> None:
    built = [
        build_provider(sms_settings(sink)),
        build_provider(wechat_settings(sink)),
        build_provider(SmtpSettings(host="127.0.0.1", from_address="a@b.example")),
        build_provider(WebhookSettings(url=sink.webhook_url, secret=SecretStr("s"))),
    ]

    assert [type(p) for p in built] == [HttpSmsGateway, WeChatOfficialAccount, SmtpEmail, SignedWebhook]
    assert [(p.channel, p.name) for p in built] == [
        (Channel.SMS, "sms"),
        (Channel.WECHAT, "wechat"),
        (Channel.EMAIL, "email"),
        (Channel.WEBHOOK, "webhook"),
    ]
    assert all(isinstance(p, Provider) for p in built)
    for provider in built:
        await provider.aclose()


async def test_sink_process_control_api_and_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "sink.jsonl"
    with SinkProcess(state_file) as process:
        assert process.client is not None
        gateway = HttpSmsGateway(SmsGatewaySettings(url=f"{process.url}/sms/send", auth_value=SecretStr(SMS_AUTH)))
        process.client.fail_next("sms", 1, 500)
        failed = await gateway.send(sms_message("offer-1:sms"))
        accepted = await gateway.send(sms_message("offer-1:sms"))
        await gateway.aclose()
        assert isinstance(failed, Failure)
        assert failed.code == "http_500"
        assert isinstance(accepted, Accepted)
        [delivery] = process.client.deliveries()
        assert delivery["idempotency_key"] == "offer-1:sms"
        assert [call["outcome"] for call in process.client.calls()] == ["fault:500", "accepted"]

    # A restarted sink still remembers what it answered: the journal is its memory.
    with SinkProcess(state_file) as restarted:
        assert restarted.client is not None
        gateway = HttpSmsGateway(SmsGatewaySettings(url=f"{restarted.url}/sms/send", auth_value=SecretStr(SMS_AUTH)))
        again = await gateway.send(sms_message("offer-1:sms"))
        await gateway.aclose()
        assert again == accepted
        stats = restarted.client.stats()
        assert (stats["deliveries"], stats["duplicates_absorbed"]) == (1, 1)
