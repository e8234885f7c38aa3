"""Templates: per locale and sandboxed, one documented fallback chain, and no marketing without a way out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.campaigns.domain.decide import Decision, Outcome
from services.campaigns.domain.definitions import Campaign
from services.campaigns.domain.triggers import Candidate, Versioned
from services.campaigns.service_layer.deciding import offer_event
from services.campaigns.service_layer.definitions_loader import load_folder
from services.notifier.adapters.templates import (
    BUILTIN_DIR,
    OptOutMissing,
    RenderError,
    TemplateInvalid,
    TemplateMissing,
    TemplateRenderer,
    TemplateUnsafe,
    TemplateVariableMissing,
)
from services.notifier.domain.messages import RenderedMessage
from shared.contracts import Channel, MessageType, OfferIssuedV1

DEFAULT_CAMPAIGNS = Path(__file__).resolve().parents[3] / "services" / "campaigns" / "defaults"
AT = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
UNSUBSCRIBE = "https://members.example.com/v1/unsubscribe/tok?a=1&b=2"
SHIPPED_LOCALES = ("zh-CN", "en", "fa", "kk")
FOOTERS = {"zh-CN": "回复TD退订", "en": "Reply STOP to opt out", "fa": "برای لغو اشتراک، «لغو» را پاسخ دهید"}
ZWNJ = "\u200c"

# What each trigger adds to the offer, as services/campaigns/domain/triggers.py builds it.
TRIGGERED: dict[str, dict[str, object]] = {
    "lifecycle_entered": {},
    "cross_sell": {
        "sku": "SKU-PESTO-190G",
        "category": "pasta_sauce",
        "variables": {"bought_category": "pasta", "offer_category": "pasta_sauce"},
    },
    "up_sell": {
        "sku": "MILK-ORGANIC-1L",
        "category": "dairy",
        "variables": {"bought_sku": "MILK-1L", "offer_sku": "MILK-ORGANIC-1L"},
    },
    "replenishment": {"variables": {"usual_gap_days": "12"}},
    "community_interest": {
        "category": "pet_food",
        "variables": {"community_id": "store-12-wechat", "offer_category": "pet_food"},
    },
}


def campaign_offer(campaign: Campaign) -> OfferIssuedV1:
    """The offer campaigns itself would issue for this campaign, through its own ``offer_event``."""
    candidate = Candidate(Versioned(campaign, 1), "m-1", "occurrence-1", AT, **TRIGGERED[campaign.trigger.kind.value])  # type: ignore[arg-type]
    decision = Decision(
        candidate,
        Outcome.ISSUED,
        channels=campaign.channels,
        deliver_at=AT,
        expires_at=AT + timedelta(days=campaign.offer.expires_after_days),
    )
    return offer_event(decision)


DEFAULT_OFFERS = {c.id: campaign_offer(c) for c in load_folder(DEFAULT_CAMPAIGNS)}


def offer(
    template: str = "win_back",
    message_type: MessageType = MessageType.MARKETING,
    variables: dict[str, str] | None = None,
    **fields: object,
) -> OfferIssuedV1:
    return OfferIssuedV1(
        member_id="m-1",
        occurred_at=AT,
        offer_id="offer-1",
        campaign_id=template,
        campaign_kind="test",
        message_type=message_type,
        channels=(Channel.SMS,),
        template=template,
        variables=variables or {},
        **fields,
    )


def write(root: Path, name: str, source: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def text_only(text: str) -> str:
    return "{% block text %}" + text + "{% endblock %}"


def opt_out(sms: str) -> str:
    return "{% block sms %}" + sms + "{% endblock %}{% block email %}{{ unsubscribe_url }}{% endblock %}"


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    override, builtin = tmp_path / "chain", tmp_path / "builtin"
    override.mkdir()
    builtin.mkdir()
    return override, builtin


@pytest.fixture
def renderer(roots: tuple[Path, Path]) -> TemplateRenderer:
    override, builtin = roots
    return TemplateRenderer(override_dir=override, builtin_dir=builtin)


SHIPPED = TemplateRenderer(override_dir=None)


def sms(renderer: TemplateRenderer, o: OfferIssuedV1, locale: str | None = None) -> str:
    return renderer.render(o, Channel.SMS, to="+8613800000000", locale=locale).text


def assert_well_formed(message: RenderedMessage) -> None:
    assert message.text
    for part in (message.text, message.subject, message.html or ""):
        assert "None" not in part
        assert "{{" not in part
        assert "{%" not in part
    if message.channel is not Channel.EMAIL and not message.locale.startswith("zh"):
        # A tag ending a line eats its newline (trim_blocks): sentences must not run into each other.
        assert not re.search(r"[.!?؟][^\W\d_]", message.text), message.text


# -- the shipped templates -------------------------------------------------------------------------------------


def test_the_shipped_templates_pass_the_check() -> None:
    assert SHIPPED.check() == []


def test_the_defaults_are_the_campaigns_shipped_with_campaigns() -> None:
    assert set(DEFAULT_OFFERS) == {
        "welcome",
        "win_back",
        "reactivation",
        "cross_sell",
        "up_sell",
        "replenishment",
        "community_interest",
    }


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
@pytest.mark.parametrize("campaign_id", sorted(DEFAULT_OFFERS))
def test_every_default_campaign_renders_in_every_shipped_locale_on_every_channel(campaign_id, locale, channel) -> None:
    o = DEFAULT_OFFERS[campaign_id]
    message = SHIPPED.render(o, channel, to="member", locale=locale, unsubscribe_url=UNSUBSCRIBE)
    assert_well_formed(message)
    assert message.locale == locale
    assert message.direction == ("rtl" if locale == "fa" else "ltr")
    assert (message.html is not None) == (channel is Channel.EMAIL)


def shipped_cases() -> list[tuple[str, str, str]]:
    """(locale, file, campaign): a type fallback with every campaign's variables, a campaign file with its own."""
    cases = []
    for path in sorted(BUILTIN_DIR.glob("*/*.j2")):
        locale, name = path.parent.name, path.stem
        if name in set(MessageType):
            cases += [(locale, name, campaign_id) for campaign_id in sorted(DEFAULT_OFFERS)]
        elif not name.startswith("_"):
            cases.append((locale, name, name))
    return cases


@pytest.mark.parametrize(("locale", "name", "campaign_id"), shipped_cases())
def test_every_shipped_file_renders_with_the_variables_campaigns_send(locale, name, campaign_id) -> None:
    o = DEFAULT_OFFERS[campaign_id]
    if name != campaign_id:  # reach the message-type fallback: no file has this template's name
        o = o.model_copy(update={"template": "chain_special", "message_type": MessageType(name)})
    for channel in (Channel.SMS, Channel.EMAIL):
        assert_well_formed(SHIPPED.render(o, channel, to="m", locale=locale, unsubscribe_url=UNSUBSCRIBE))


def test_each_shipped_locale_has_the_four_message_type_fallbacks_and_an_opt_out() -> None:
    for locale in SHIPPED_LOCALES:
        names = {p.stem for p in (BUILTIN_DIR / locale).glob("*.j2")}
        assert {"greeting", "notification", "narrative", "marketing", "_opt_out"} <= names, locale


def test_a_win_back_sms_in_chinese_states_the_coupon_its_terms_and_the_way_out() -> None:
    text = sms(SHIPPED, DEFAULT_OFFERS["win_back"])
    assert text == (
        "好久不见！送您一张¥20优惠券，满100元可用，2024年5月20日前有效。"
        "结账时出示券码 COMEBACK20 即可使用。\n回复TD退订"
    )


# -- the fallback chain ----------------------------------------------------------------------------------------


def test_the_exact_locale_comes_before_its_language(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/win_back.j2", text_only("exact"))
    write(builtin, "zh/win_back.j2", text_only("language"))
    o = offer(message_type=MessageType.GREETING)
    assert sms(renderer, o, "zh-CN") == "exact"
    assert sms(renderer, o, "zh-TW") == "language"


def test_the_members_language_comes_before_the_default_locale(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "fa/win_back.j2", text_only("persian"))
    write(builtin, "zh-CN/win_back.j2", text_only("default"))
    message = renderer.render(offer(message_type=MessageType.GREETING), Channel.SMS, to="x", locale="fa-IR")
    assert message.text == "persian"
    assert message.locale == "fa-IR"
    assert message.direction == "rtl"


def test_an_unknown_locale_falls_back_to_the_default_then_the_defaults_language(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh/win_back.j2", text_only("chinese"))
    message = renderer.render(offer(message_type=MessageType.GREETING), Channel.SMS, to="x", locale="de-CH")
    assert message.text == "chinese"
    # The text is Chinese, so the message is: money, dates and direction follow the text, not the request.
    assert message.locale == "zh"


def test_within_a_locale_the_named_template_comes_before_the_message_type(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "en/win_back.j2", text_only("named"))
    write(builtin, "en/greeting.j2", text_only("by type"))
    assert sms(renderer, offer(message_type=MessageType.GREETING), "en") == "named"
    assert sms(renderer, offer("other", MessageType.GREETING), "en") == "by type"


def test_the_members_language_beats_a_more_specific_template_in_another_language(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "en/greeting.j2", text_only("english, generic"))
    write(builtin, "zh-CN/win_back.j2", text_only("chinese, specific"))
    assert sms(renderer, offer(message_type=MessageType.GREETING), "en") == "english, generic"


def test_a_chain_overrides_one_file_and_keeps_the_others(roots, renderer) -> None:
    override, builtin = roots
    write(builtin, "en/win_back.j2", text_only("built in"))
    write(override, "en/win_back.j2", text_only("the chain's"))
    write(builtin, "en/welcome.j2", text_only("built-in welcome"))
    assert sms(renderer, offer(message_type=MessageType.GREETING), "en") == "the chain's"
    assert sms(renderer, offer("welcome", MessageType.GREETING), "en") == "built-in welcome"


def test_the_shipped_templates_serve_a_locale_without_the_campaigns_template_by_its_message_type() -> None:
    message = SHIPPED.render(DEFAULT_OFFERS["win_back"], Channel.SMS, to="x", locale="kk-KZ")
    assert message.locale == "kk-KZ"
    assert "COMEBACK20" in message.text
    assert message.text.endswith("Бас тарту үшін STOP деп жауап беріңіз")


def test_a_locale_nobody_wrote_falls_back_to_the_default_locale() -> None:
    message = SHIPPED.render(DEFAULT_OFFERS["win_back"], Channel.SMS, to="x", locale="de")
    assert message.locale == "zh-CN"
    assert message.text.startswith("好久不见")


def test_no_template_anywhere_fails_with_every_path_tried_in_order(roots, renderer) -> None:
    override, builtin = roots
    with pytest.raises(TemplateMissing) as caught:
        renderer.render(offer(), Channel.SMS, to="x", locale="fa-IR")
    expected = [
        str(root / locale / f"{name}.j2")
        for locale in ("fa-IR", "fa", "zh-CN", "zh")
        for name in ("win_back", "marketing")
        for root in (override, builtin)
    ]
    assert list(caught.value.tried) == expected
    assert caught.value.code == "template_missing"
    for path in expected:
        assert path in str(caught.value)


def test_a_template_name_that_is_not_a_plain_name_is_never_looked_up(renderer) -> None:
    with pytest.raises(TemplateMissing, match="not a plain name"):
        sms(renderer, offer("../../etc/passwd"))


def test_a_template_that_appears_later_is_found_by_a_new_renderer(roots) -> None:
    """Files are read once per process; a renderer made after the file exists sees it."""
    override, builtin = roots
    first = TemplateRenderer(override_dir=override, builtin_dir=builtin)
    with pytest.raises(TemplateMissing):
        sms(first, offer(message_type=MessageType.GREETING))
    write(builtin, "zh-CN/greeting.j2", text_only("hello"))
    assert (
        sms(TemplateRenderer(override_dir=override, builtin_dir=builtin), offer(message_type=MessageType.GREETING))
        == "hello"
    )


# -- variables and errors --------------------------------------------------------------------------------------


def test_a_missing_variable_names_the_variable_and_the_file(roots, renderer) -> None:
    _, builtin = roots
    path = write(builtin, "zh-CN/win_back.j2", text_only("满{{ min_spend }}元可用"))
    with pytest.raises(TemplateVariableMissing) as caught:
        sms(renderer, offer(message_type=MessageType.GREETING))
    assert caught.value.variable == "min_spend"
    assert caught.value.code == "template_variable_missing"
    assert "min_spend" in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_optional_variable_can_be_guarded(roots, renderer) -> None:
    _, builtin = roots
    write(
        builtin,
        "zh-CN/win_back.j2",
        text_only("{% if min_spend is defined %}满{{ min_spend }}元{% else %}无门槛{% endif %}"),
    )
    o = offer(message_type=MessageType.GREETING)
    assert sms(renderer, o) == "无门槛"
    assert sms(renderer, o.model_copy(update={"variables": {"min_spend": "100"}})) == "满100元"


def test_the_offers_own_fields_are_variables(roots, renderer) -> None:
    _, builtin = roots
    write(
        builtin,
        "en/win_back.j2",
        text_only(
            "{{ offer_id }} {{ campaign_id }} {{ coupon_code }} {{ coupon_value_minor }} {{ sku }}"
            " {{ channel }} {{ locale }}"
        ),
    )
    o = offer(message_type=MessageType.GREETING, coupon_code="C1", coupon_value_minor=500, sku="SKU-1")
    assert sms(renderer, o, "en-GB") == "offer-1 win_back C1 500 SKU-1 sms en-GB"


@pytest.mark.parametrize(
    ("locale", "minor", "formatted"),
    [("zh-CN", 2000, "¥20"), ("zh-CN", 2050, "¥20.50"), ("en", 500, "CN¥5"), ("kk", 1000, "10\xa0CN¥")],
)
def test_money_is_formatted_in_the_messages_locale_without_empty_decimals(
    roots, renderer, locale, minor, formatted
) -> None:
    _, builtin = roots
    write(builtin, f"{locale}/win_back.j2", text_only("{{ coupon_value_minor | money }}"))
    assert sms(renderer, offer(message_type=MessageType.GREETING, coupon_value_minor=minor), locale) == formatted


def test_the_expiry_date_is_the_members_local_date(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/win_back.j2", text_only("{{ expires_at | date }}前有效"))
    # 16:30 UTC is already the next day in Shanghai.
    o = offer(message_type=MessageType.GREETING, expires_at=datetime(2024, 5, 20, 16, 30, tzinfo=UTC))
    assert sms(renderer, o) == "2024年5月21日前有效"
    in_london = renderer.render(o, Channel.SMS, to="x", time_zone="Europe/London")
    assert in_london.text == "2024年5月20日前有效"


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ offer_id.__class__.__base__ }}",
        "{{ range.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x{0.__class__}'.format(offer_id) }}",
        "{{ locale.__len__() }}",
        # Immutable sandbox: a template cannot even change a list it made itself.
        "{% set found = [] %}{{ found.append(1) }}",
    ],
)
def test_the_sandbox_refuses_python_internals(roots, renderer, escape) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/win_back.j2", text_only(escape))
    with pytest.raises(TemplateUnsafe) as caught:
        sms(renderer, offer(message_type=MessageType.GREETING))
    assert caught.value.code == "template_unsafe"


def test_a_runaway_loop_is_stopped_by_the_sandbox(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/win_back.j2", text_only("{% for i in range(10**9) %}x{% endfor %}"))
    with pytest.raises(TemplateInvalid, match="MAX_RANGE"):
        sms(renderer, offer(message_type=MessageType.GREETING))


def test_a_syntax_error_is_invalid_and_names_the_file_and_line(roots, renderer) -> None:
    _, builtin = roots
    path = write(builtin, "zh-CN/win_back.j2", "{% block text %}\n{% if %}\n{% endblock %}")
    with pytest.raises(TemplateInvalid) as caught:
        sms(renderer, offer(message_type=MessageType.GREETING))
    assert caught.value.code == "template_invalid"
    assert f"{path}:2" in str(caught.value)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{% block subject %}hi{% endblock %}", "no {% block text %}"),
        ('{% extends "zh-CN/base.j2" %}{% block text %}x{% endblock %}', "extends"),
        ("{% set x = 1 %}{% block text %}{{ x }}{% endblock %}", "outside a block"),
        ("{% block text %}x{% endblock %}{% block txet %}y{% endblock %}", "unknown block 'txet'"),
    ],
)
def test_a_template_that_would_not_render_as_written_is_invalid(roots, renderer, source, problem) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/base.j2", text_only("base"))
    write(builtin, "zh-CN/win_back.j2", source)
    with pytest.raises(TemplateInvalid, match=problem):
        sms(renderer, offer(message_type=MessageType.GREETING))


def test_a_partial_is_included_through_the_same_override(roots, renderer) -> None:
    override, builtin = roots
    write(builtin, "en/_sign.j2", "The built-in team")
    write(override, "en/_sign.j2", "Your FreshMart team")
    write(builtin, "en/win_back.j2", text_only('Hello. {% include "en/_sign.j2" %}'))
    assert sms(renderer, offer(message_type=MessageType.GREETING), "en") == "Hello. Your FreshMart team"


def test_check_lists_every_problem(roots, renderer) -> None:
    override, builtin = roots
    write(builtin, "zh-CN/greeting.j2", "{% block text %}{% if %}{% endblock %}")
    write(builtin, "zh-CN/notification.j2", "{% block subject %}x{% endblock %}")
    write(builtin, "zh-CN/narrative.j2", text_only('{% include "zh-CN/_nowhere.j2" %}'))
    write(override, "Not A Locale/marketing.j2", text_only("x"))
    problems = "\n".join(renderer.check())
    assert "greeting.j2: line 1" in problems
    assert "notification.j2: no {% block text %}" in problems
    assert "'zh-CN/_nowhere.j2' is not in any template folder" in problems
    assert "Not A Locale" in problems
    assert "zh-CN: no _opt_out.j2" in problems
    assert "no marketing.j2" in problems


# -- HTML, text and the scripts of the world -------------------------------------------------------------------


def test_html_escapes_variables_and_text_keeps_them_as_written(roots, renderer) -> None:
    _, builtin = roots
    write(
        builtin,
        "en/win_back.j2",
        "{% block subject %}Hi{% endblock %}{% block text %}Note: {{ note }}{% endblock %}"
        "{% block html %}<p>Note: <b>{{ note }}</b></p>{% endblock %}",
    )
    o = offer(message_type=MessageType.GREETING, variables={"note": "<script>alert('x')</script> & co"})
    message = renderer.render(o, Channel.EMAIL, to="m@example.com", locale="en")
    assert message.text == "Note: <script>alert('x')</script> & co"
    assert message.html is not None
    assert "<script>" not in message.html
    assert "<b>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</b>" in message.html


def test_without_an_html_block_the_html_is_the_escaped_text_in_paragraphs(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "en/win_back.j2", text_only("Line <one>\nline two\n\nSecond paragraph"))
    message = renderer.render(offer(message_type=MessageType.GREETING), Channel.EMAIL, to="m@example.com", locale="en")
    assert message.html is not None
    assert "<p>Line &lt;one&gt;<br>\nline two</p>\n<p>Second paragraph</p>" in message.html
    assert '<html lang="en" dir="ltr">' in message.html


def test_a_subject_is_one_line_whatever_a_variable_holds(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "en/win_back.j2", "{% block subject %}Hi {{ name }}{% endblock %}" + text_only("x"))
    o = offer(message_type=MessageType.GREETING, variables={"name": "Ann\r\nBcc: all@example.com"})
    assert renderer.render(o, Channel.EMAIL, to="m@example.com", locale="en").subject == "Hi Ann Bcc: all@example.com"


def test_persian_renders_right_to_left_byte_for_byte() -> None:
    message = SHIPPED.render(DEFAULT_OFFERS["welcome"], Channel.EMAIL, to="m@example.com", locale="fa")
    expected = (
        "سلام، خوش آمدید! هنگام پرداخت کد عضویت خود را نشان دهید تا امتیاز بگیرید؛ "
        f"پیشنهادهای ویژهٔ اعضا را هم اول به شما خبر می{ZWNJ}دهیم. اگر سؤالی دارید، به همین پیام پاسخ دهید."
    )
    assert message.text.encode("utf-8") == expected.encode("utf-8")
    assert message.direction == "rtl"
    assert message.html is not None
    assert '<html lang="fa" dir="rtl">' in message.html
    assert '<div lang="fa" dir="rtl">' in message.html
    assert expected in message.html


def test_a_persian_variable_passes_through_unchanged(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "fa/win_back.j2", text_only("«{{ name }}»"))
    name = f"\u200fمحمد{ZWNJ}رضا کاظمی"
    o = offer(message_type=MessageType.GREETING, variables={"name": name})
    assert sms(renderer, o, "fa").encode("utf-8") == f"«{name}»".encode()


@pytest.mark.parametrize("channel", list(Channel))
def test_emoji_pass_unchanged(roots, renderer, channel) -> None:
    _, builtin = roots
    write(builtin, "en/win_back.j2", "{% block subject %}🎉 {{ emoji }}{% endblock %}" + text_only("🎉 {{ emoji }} 🎉"))
    emoji = "👨‍👩‍👧‍👦🇨🇳🧧 Ä"
    o = offer(message_type=MessageType.GREETING, variables={"emoji": emoji})
    message = renderer.render(o, channel, to="x", locale="en")
    assert message.text == f"🎉 {emoji} 🎉"
    assert message.subject == f"🎉 {emoji}"
    if message.html is not None:
        assert emoji in message.html


# -- marketing carries a way out -------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WECHAT, Channel.WEBHOOK])
@pytest.mark.parametrize("locale", sorted(FOOTERS))
def test_marketing_text_ends_with_the_opt_out_of_its_language(locale, channel) -> None:
    message = SHIPPED.render(DEFAULT_OFFERS["win_back"], channel, to="x", locale=locale)
    assert message.text.endswith("\n" + FOOTERS[locale])
    assert message.text.count(FOOTERS[locale]) == 1


def test_the_persian_opt_out_keyword_is_laghv() -> None:
    assert "لغو" in sms(SHIPPED, DEFAULT_OFFERS["reactivation"], "fa")


def test_a_marketing_email_carries_the_unsubscribe_link_in_text_and_html() -> None:
    message = SHIPPED.render(
        DEFAULT_OFFERS["win_back"], Channel.EMAIL, to="m@example.com", locale="en", unsubscribe_url=UNSUBSCRIBE
    )
    assert message.unsubscribe_url == UNSUBSCRIBE
    assert message.text.endswith(f"Unsubscribe: {UNSUBSCRIBE}")
    assert message.html is not None
    assert '<a href="https://members.example.com/v1/unsubscribe/tok?a=1&amp;b=2">Unsubscribe</a>' in message.html


def test_a_marketing_email_without_an_unsubscribe_url_is_refused() -> None:
    with pytest.raises(OptOutMissing) as caught:
        SHIPPED.render(DEFAULT_OFFERS["win_back"], Channel.EMAIL, to="m@example.com", locale="en")
    assert caught.value.code == "opt_out_missing"


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_a_greeting_gets_no_opt_out_footer(locale) -> None:
    text = sms(SHIPPED, DEFAULT_OFFERS["welcome"], locale)
    assert not any(footer in text for footer in FOOTERS.values())
    assert "STOP" not in text


def test_a_footer_the_template_already_carries_is_not_added_twice(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/_opt_out.j2", opt_out("回复TD退订"))
    write(builtin, "zh-CN/win_back.j2", text_only("本周特价，回复TD退订"))
    assert sms(renderer, offer()) == "本周特价，回复TD退订"


def test_the_opt_out_comes_from_the_language_of_the_text(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "en/_opt_out.j2", opt_out("Reply STOP"))
    write(builtin, "zh-CN/_opt_out.j2", opt_out("回复TD退订"))
    write(builtin, "zh-CN/marketing.j2", text_only("特价"))
    # No English template, so the text is Chinese, and so is its footer: a message never mixes languages.
    assert sms(renderer, offer(), "en") == "特价\n回复TD退订"


def test_an_opt_out_that_renders_empty_fails_closed(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/_opt_out.j2", opt_out("{% if false %}回复TD退订{% endif %}"))
    write(builtin, "zh-CN/marketing.j2", text_only("特价"))
    with pytest.raises(OptOutMissing, match="renders empty"):
        sms(renderer, offer())


def test_marketing_without_any_opt_out_fails_closed(roots, renderer) -> None:
    _, builtin = roots
    write(builtin, "zh-CN/marketing.j2", text_only("特价"))
    write(builtin, "zh-CN/greeting.j2", text_only("您好"))
    with pytest.raises(OptOutMissing) as caught:
        sms(renderer, offer(), "fa")
    assert caught.value.code == "opt_out_missing"
    assert str(builtin / "zh-CN" / "_opt_out.j2") in str(caught.value)
    # A greeting needs no way out, so the same folders still serve it.
    assert sms(renderer, offer("welcome", MessageType.GREETING), "fa") == "您好"


# -- the message -----------------------------------------------------------------------------------------------


def test_the_message_is_addressed_and_keyed_per_offer_and_channel() -> None:
    o = DEFAULT_OFFERS["cross_sell"]
    message = SHIPPED.render(o, Channel.WECHAT, to="openid-1")
    assert message.to == "openid-1"
    assert message.channel is Channel.WECHAT
    assert message.idempotency_key == f"{o.offer_id}:wechat"
    assert message.message_type is MessageType.MARKETING
    assert message.data == o.variables
    assert message.subject
    assert message.html is None


def test_render_errors_are_all_render_errors_with_a_code() -> None:
    for error in (TemplateMissing, TemplateInvalid, TemplateVariableMissing, TemplateUnsafe, OptOutMissing):
        assert issubclass(error, RenderError)
        assert error.code.startswith(("template_", "opt_out_"))
