"""Inbound SMS replies: an opt-out or opt-in keyword, or a real reply to pass on.

A reply counts as a keyword only when the whole message is the keyword, give or take surrounding
whitespace and punctuation ("STOP", "stop!", "退订。", "【TD】"); "stop sending me 1s" or "I want to
unsubscribe later" is a real reply. Matching is on the normalised text:

- Unicode NFKC, so full-width "ＳＴＯＰ" reads as "STOP" and Arabic presentation forms as plain letters;
- invisible format characters dropped (RTL/LTR marks, zero-width joiners and spaces, a BOM), which
  phones add around right-to-left text;
- Arabic diacritics and tatweel dropped and hamza/madda forms of alef folded to bare alef, because
  "الغاء" is how most people type "إلغاء";
- surrounding whitespace and punctuation stripped (ASCII and CJK/full-width: 。！，、【】「」…, and ~),
  inner runs of whitespace collapsed to one space;
- casefolded ("Stop", "СТОП").

Opt-out keywords:
    English/carrier: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT
    Chinese carriers: TD, T, 退订, 退定 (a common typo), 取消订阅, 退订短信
    Kazakh: тоқтату ("stop"), бас тарту ("refuse")
    Russian: стоп, отписаться
    Persian: لغو ("cancel"), توقف ("stop")
    Arabic: إلغاء ("cancel")
"N" is deliberately not one: it is also an answer to a question ("Y/N") we may have asked.

Opt-in keywords:
    START, UNSTOP, YES, 订阅, Persian شروع ("start"), Kazakh бастау ("start")

Anything else is OTHER: a real reply (for example "1" to book) for a human or a campaign to read.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class ReplyKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    OTHER = "other"


# Arabic harakat (fathatan .. sukun, and the rarer marks up to U+065F), superscript alef, tatweel.
_ARABIC_MARKS = frozenset([*map(chr, range(0x064B, 0x0660)), "\u0670", "\u0640"])
_ALEF_FORMS = str.maketrans({"\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627"})


def normalise_reply(text: str) -> str:
    """The reply as keywords are matched: see the module docstring for each step."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in _ARABIC_MARKS)
    text = text.translate(_ALEF_FORMS)
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return " ".join(text[start:end].split()).casefold()


def _is_edge(ch: str) -> bool:
    # Unicode punctuation (P*) covers ASCII !?., quotes, and CJK 。！，、【】「」 alike; Z* and C* are
    # spaces, line breaks and control characters. "~" (full-width "～" after NFKC) is a math symbol to
    # Unicode but a friendly trailing flourish in Chinese texts ("退订~").
    return ch.isspace() or ch == "~" or unicodedata.category(ch)[0] in "PZC"


OPT_OUT_KEYWORDS = frozenset(
    normalise_reply(k)
    for k in (
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
    )
)
OPT_IN_KEYWORDS = frozenset(normalise_reply(k) for k in ("START", "UNSTOP", "YES", "订阅", "شروع", "бастау"))


def classify_reply(text: str) -> ReplyKind:
    """OPT_OUT or OPT_IN when the whole reply is such a keyword, OTHER for anything else."""
    word = normalise_reply(text)
    if word in OPT_OUT_KEYWORDS:
        return ReplyKind.OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return ReplyKind.OPT_IN
    return ReplyKind.OTHER
