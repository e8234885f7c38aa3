"""Locales: which template locales to try, in order, and which way the text runs.

The fallback chain for a requested locale (the member's own, else the offer's) is:

1. the requested locale exactly, normalised ("zh_cn" and "ZH-cn" are "zh-CN");
2. the same with subtags dropped from the end, down to its language alone
   ("zh-Hant-TW" -> "zh-Hant" -> "zh"), as in RFC 4647 lookup;
3. the chain's default locale, and likewise down to its language alone.

Duplicates are dropped, first place kept. A requested locale that is not a BCP-47-ish tag (a
language of 2-3 letters, then optionally a 4-letter script, a 2-letter or 3-digit region and
variants) is skipped, so a garbage value from a member profile falls back to the default instead of
failing the send. A garbage default is a configuration error and raises.

Normalised case follows BCP 47: language lower, script title, region upper, variants lower.
"""

from __future__ import annotations

import re

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "yi", "dv", "sd", "ug"})
# Scripts that run right to left; a script subtag beats the language ("pa-Arab" is rtl, "sd-Deva" is ltr).
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"})

_TAG = re.compile(
    r"(?P<language>[A-Za-z]{2,3})"
    r"(?:[-_](?P<script>[A-Za-z]{4}))?"
    r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:[-_](?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
)


def normalise_locale(tag: str) -> str | None:
    """``tag`` in canonical BCP-47 case with "-" separators, None when it is not a locale tag."""
    subtags = _subtags(tag)
    return None if subtags is None else "-".join(subtags)


def locale_chain(requested: str | None, default: str) -> tuple[str, ...]:
    """The locales to look a template up in, best first (see the module docstring)."""
    default_tags = _subtags(default)
    if default_tags is None:
        raise ValueError(f"default locale {default!r} is not a locale tag")
    chain: dict[str, None] = {}
    requested_tags = None if requested is None else _subtags(requested)
    for subtags in (requested_tags, default_tags):
        if subtags is None:
            continue
        for end in range(len(subtags), 0, -1):
            chain.setdefault("-".join(subtags[:end]))
    return tuple(chain)


def direction(locale: str) -> str:
    """The text direction of ``locale``: "rtl" for fa, ar, he, ur and the like, "ltr" for the rest and for garbage."""
    match = _TAG.fullmatch(locale.strip())
    if match is None:
        return "ltr"
    script = match["script"]
    if script is not None:
        return "rtl" if script.title() in RTL_SCRIPTS else "ltr"
    return "rtl" if match["language"].lower() in RTL_LANGUAGES else "ltr"


def _subtags(tag: str) -> list[str] | None:
    match = _TAG.fullmatch(tag.strip())
    if match is None:
        return None
    subtags = [match["language"].lower()]
    if match["script"]:
        subtags.append(match["script"].title())
    if match["region"]:
        subtags.append(match["region"].upper())
    subtags.extend(v.lower() for v in re.split(r"[-_]", match["variants"]) if v)
    return subtags
