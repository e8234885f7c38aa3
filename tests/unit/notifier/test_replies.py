"""Inbound SMS replies: a whole-message keyword opts out or in, in several languages; anything else is a reply."""

from __future__ import annotations

import pytest

from services.notifier.domain.replies import (
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    ReplyKind,
    classify_reply,
    normalise_reply,
)

OPT_OUTS = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "TD",
    "T",
    "退订",
    "退定",
    "取消订阅",
    "退订短信",
    "тоқтату",
    "бас тарту",
    "стоп",
    "отписаться",
    "لغو",
    "توقف",
    "إلغاء",
]
OPT_INS = ["START", "UNSTOP", "YES", "订阅", "شروع", "бастау"]


@pytest.mark.parametrize("keyword", OPT_OUTS)
def test_each_documented_opt_out_keyword_opts_out(keyword: str) -> None:
    assert classify_reply(keyword) is ReplyKind.OPT_OUT


@pytest.mark.parametrize("keyword", OPT_INS)
def test_each_documented_opt_in_keyword_opts_in(keyword: str) -> None:
    assert classify_reply(keyword) is ReplyKind.OPT_IN


def test_the_exported_keyword_sets_are_exactly_the_documented_keywords_normalised() -> None:
    assert {normalise_reply(k) for k in OPT_OUTS} == OPT_OUT_KEYWORDS
    assert {normalise_reply(k) for k in OPT_INS} == OPT_IN_KEYWORDS


def test_no_keyword_both_opts_out_and_opts_in() -> None:
    assert not OPT_OUT_KEYWORDS & OPT_IN_KEYWORDS


def test_the_exported_keywords_are_already_normalised() -> None:
    assert all(normalise_reply(k) == k for k in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS)


# -- normalisation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["stop", "Stop", "sToP", "  STOP  ", "STOP\n", "\tSTOP\r\n", "STOP.", "STOP!", "STOP!!!", "'STOP'", '"stop"'],
)
def test_case_surrounding_whitespace_and_punctuation_do_not_matter(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OPT_OUT


@pytest.mark.parametrize("text", ["ＳＴＯＰ", "ｔｄ", "ＴＤ！", "Ｔ"])
def test_full_width_latin_reads_as_ascii(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OPT_OUT


@pytest.mark.parametrize(
    "text", ["退订。", "退订！", "退订，", "【退订】", "「退订」", "《退订》", "退订～", "　退订　", "退订…"]
)
def test_cjk_and_full_width_punctuation_and_spaces_around_a_keyword_are_stripped(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OPT_OUT


@pytest.mark.parametrize("text", ["СТОП", "Стоп!", "ТОҚТАТУ", "Бас тарту", "бас  тарту", "ОТПИСАТЬСЯ."])
def test_cyrillic_keywords_match_in_any_case_and_spacing(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "\u200fلغو",  # right-to-left mark before it, as phones add
        "لغو\u200f",
        "\u200eتوقف\u200e",  # left-to-right marks
        "\ufeffلغو",  # a byte-order mark
        "لغو؟",  # Arabic question mark
        "لغو.",
        "الغاء",  # "إلغاء" typed without the hamza, as most people do
        "أِلغاء",
        "إلـغـاء",  # stretched with tatweel
        "إلْغَاء",  # with vowel marks
        "\ufedf\ufed0\ufeee",  # لغو in presentation forms (initial, medial, final), as old encoders send
    ],
)
def test_persian_and_arabic_keywords_survive_bidi_marks_diacritics_and_hamza_spelling(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OPT_OUT


def test_a_persian_opt_in_survives_a_right_to_left_mark() -> None:
    assert classify_reply("\u200fشروع\u200f") is ReplyKind.OPT_IN


@pytest.mark.parametrize("text", ["Start", "start!", "YES.", "yes", "订阅。", "Бастау"])
def test_opt_in_keywords_are_normalised_the_same_way(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OPT_IN


# -- anything else is a real reply -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1",
        "2.",
        "",
        "   ",
        "!!!",
        "N",
        "no",
        "Y",
        "STOP sending me these",
        "please stop",
        "I want to unsubscribe",
        "STOP ALL",
        "S T O P",
        "STOPP",
        "TDD",
        "TD1",
        "退订了吗",
        "不要退订",
        "订阅了",
        "stop 🙏",
        "what time does the sale end?",
        "the end",
    ],
    ids=repr,
)
def test_anything_but_a_whole_keyword_is_an_other_reply(text: str) -> None:
    assert classify_reply(text) is ReplyKind.OTHER
