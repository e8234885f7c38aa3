"""Complaints: a chat message matching a multilingual lexicon of complaint words.

Deliberately simple and honest: a word list, matched after Unicode NFKC normalisation and case
folding. Latin and Cyrillic terms must match whole words (``scam`` is not in ``scamper``);
terms in scripts written without spaces (Chinese) match as substrings. No sentiment model is
claimed. Chains extend the list with a file of their own (one term per line).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_TERMS: tuple[str, ...] = (
    # zh-CN
    "投诉",
    "举报",
    "退款",
    "太差",
    "差评",
    "骗子",
    "坑人",
    "垃圾",
    "不新鲜",
    "过期",
    "态度差",
    "再也不来",
    # en
    "complaint",
    "complain",
    "refund",
    "terrible",
    "awful",
    "scam",
    "rip-off",
    "expired",
    "never again",
    "worst",
    # ru / kk (Cyrillic)
    "жалоба",
    "ужасно",
    "обман",
    "шағым",
    "нашар",
    # fa
    "شکایت",
    "افتضاح",
    "کلاهبرداری",
)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _spaced_script(term: str) -> bool:
    """True for terms written with spaces between words, where whole-word matching is right."""
    return any(ch.isalpha() and not ("\u3000" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff") for ch in term)


@dataclass(frozen=True)
class Lexicon:
    pattern: re.Pattern[str] | None

    def matches(self, text: str) -> str | None:
        """The complaint term found in ``text``, if any."""
        if self.pattern is None or not text:
            return None
        found = self.pattern.search(_normal(text))
        return found.group(0) if found else None


def lexicon(terms: Iterable[str] = DEFAULT_TERMS) -> Lexicon:
    parts = []
    for raw in terms:
        term = _normal(raw.strip())
        if not term or term.startswith("#"):
            continue
        escaped = re.escape(term)
        parts.append(rf"(?<!\w){escaped}(?!\w)" if _spaced_script(term) else escaped)
    # Longest first, so "never again" wins over a shorter term at the same place.
    parts.sort(key=len, reverse=True)
    return Lexicon(re.compile("|".join(parts)) if parts else None)


def terms_from_text(text: str) -> list[str]:
    """A lexicon file: one term per line; blank lines and ``#`` comments are skipped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
