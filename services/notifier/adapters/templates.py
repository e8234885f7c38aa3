"""Rendering an offer into a message: Jinja2 templates per locale, sandboxed, with one documented fallback chain.

Layout
    ``<root>/<locale>/<name>.j2``. ``name`` is the offer's ``template`` (``win_back``) or, as the fallback, its
    message type (``greeting``, ``notification``, ``narrative``, ``marketing``). Locale folders use BCP 47 tags
    (``zh-CN``, ``en``, ``fa``, ``kk``). One file carries every part of a message as a block:

    - ``{% block subject %}``: the email subject, the WeChat "first" line, the webhook title (optional; collapsed
      to one line);
    - ``{% block text %}``: the SMS body and the plain-text part of every channel (required);
    - ``{% block html %}``: the email HTML body (optional). It is rendered with autoescaping; without it the
      renderer builds the HTML from the text (escaped, blank lines make paragraphs). Either way the body is
      wrapped in a document carrying ``lang`` and ``dir``.

    A template is self-contained: blocks are rendered one by one, so ``{% extends %}`` and anything outside the
    blocks (``{% set %}``, ``{% macro %}``, ``{% import %}``, text) are refused as ``template_invalid``, and so is
    an unknown block name (a typo would otherwise vanish silently). Shared pieces live in partials,
    ``<root>/<locale>/_*.j2``, included whole from inside a block with ``{% include "en/_sign.j2" %}`` (names are
    relative to the roots, so they go through the same override). ``_opt_out.j2`` is the one partial with
    blocks: ``sms`` and ``email`` (required) and ``email_html`` (optional).

Roots
    A chain's override folder (setting; may be absent) is laid over the built-in ``services/notifier/templates``:
    a chain overrides one file by dropping a file with the same relative path into its folder, and every other
    file still comes from the built-in set. Files are read once per process: a restart picks up edits.

The fallback chain
    The locale chain (``services/notifier/domain/locales.py``) is the requested locale (the contact's own, else
    the offer's), then the same with subtags dropped down to its language, then the default locale likewise:
    ``fa-IR -> fa -> zh-CN -> zh``. A requested tag that is not a locale is skipped. For each locale in that order
    the renderer tries ``<template>.j2`` then ``<message type>.j2``, each first in the override root and then in
    the built-in one, and takes the first file that exists. So the member's language beats the template's
    specificity (a generic Persian ``marketing.j2`` beats an English ``win_back.j2``), and a specific template
    beats the generic one within a language. Nothing found raises ``TemplateMissing``, whose message lists every
    path tried.

    The message's locale is the requested tag when the template found is in that language (``fa-IR`` served from
    ``fa/``), otherwise the folder's (a ``de`` member served from ``zh-CN/`` gets ``zh-CN``): money, dates and
    ``dir`` always match the language of the text.

Variables
    The offer's ``variables`` (campaign content and what the trigger adds: ``min_spend``, ``sku``, ``category``,
    ``bought_category``, ``offer_category``, ``usual_gap_days`` …), and the offer's own fields, which win over a
    variable of the same name: ``offer_id``, ``campaign_id``, ``message_type``, ``coupon_code``,
    ``coupon_value_minor`` (int), ``sku``, ``expires_at`` (aware datetime in the contact's ``time_zone``, else
    the chain's default zone, so the date printed is the member's local date; or None),
    ``locale`` (the message's locale), ``channel`` (``sms``, ``wechat``, ``email``, ``webhook``) and
    ``unsubscribe_url`` (may be None). Undefined variables fail (``StrictUndefined``): guard optional ones with
    ``{% if x is defined %}``, and the offer fields that may be None with ``{% if x %}``.

    Filters: ``{{ coupon_value_minor | money }}`` formats minor units in the message's locale with Babel
    (``money(minor, currency="CNY", locale=None)``; whole amounts without decimals: ``¥20``), and
    ``{{ expires_at | date }}`` formats a date (``date(value, format="long", locale=None)``: ``2024年5月20日``,
    ``May 20, 2024``).

Opt-out
    Marketing never leaves without a way out. For ``marketing`` messages the renderer appends the ``sms`` block of
    the locale's ``_opt_out.j2`` (looked up along the rest of the locale chain, from the text's own locale) to the
    text of SMS, WeChat and webhook messages, and its ``email`` block (which carries the unsubscribe link) to the
    email text; ``email_html`` (optional, autoescaped) or else the escaped ``email`` block goes under the HTML. A
    footer already present in the text is not added twice. No ``_opt_out.j2`` anywhere in the chain, or a
    marketing email without an ``unsubscribe_url``, raises ``OptOutMissing``: fail closed. Other message types
    get no footer.

Safety and errors
    Both environments are ``ImmutableSandboxedEnvironment``s over the same loader: one plain for subject and text,
    one autoescaping for HTML. Every failure is a ``RenderError`` with a short ``code``, and none of them gets
    better by retrying (the send fails permanently): ``template_missing``, ``template_invalid`` (syntax, structure,
    a filter failing), ``template_variable_missing`` (names the variable and the file), ``template_unsafe`` (a
    sandbox violation such as ``{{ ''.__class__ }}``), ``opt_out_missing``. ``TemplateRenderer.check()`` compiles
    every file in both roots and lists the problems (``templates check``): syntax, structure, includes that point
    nowhere, a locale whose marketing would find no ``_opt_out.j2``, and a message type the default locale cannot
    fall back to.

Lookups and compiled templates are cached per (requested locale, template, message type), failures included,
and Babel's formatting per value: a render is a dict lookup, one variables dict and the block functions, about
10-30 µs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, get_currency_precision
from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateNotFound, TemplateSyntaxError, nodes
from jinja2 import pass_context as _pass_context
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from services.notifier.domain.locales import direction as text_direction
from services.notifier.domain.locales import locale_chain, normalise_locale
from services.notifier.domain.messages import RenderedMessage
from shared.contracts import Channel, MessageType, OfferIssuedV1

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "templates"
OPT_OUT = "_opt_out"
SUFFIX = ".j2"

_MESSAGE_BLOCKS = frozenset({"subject", "text", "html"})
_OPT_OUT_BLOCKS = frozenset({"sms", "email", "email_html"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_CACHE_LIMIT = 4096
_BR = Markup("<br>\n")


class RenderError(Exception):
    """A message that cannot be rendered; ``code`` is short and machine-readable. Retrying never helps."""

    code = "render_error"


class TemplateMissing(RenderError):
    code = "template_missing"

    def __init__(self, message: str, tried: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.tried = tuple(tried)


class TemplateInvalid(RenderError):
    code = "template_invalid"


class TemplateVariableMissing(RenderError):
    code = "template_variable_missing"

    def __init__(self, message: str, variable: str, template: str) -> None:
        super().__init__(message)
        self.variable = variable
        self.template = template


class TemplateUnsafe(RenderError):
    code = "template_unsafe"


class OptOutMissing(RenderError):
    code = "opt_out_missing"


# -- locales ---------------------------------------------------------------------------------------------------


def _language(tag: str) -> str:
    return tag.split("-", 1)[0]


# -- filters ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _babel_locale(tag: str) -> Locale:
    for candidate in (tag, _language(tag), "en"):
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
    raise AssertionError("unreachable: en is always known")  # pragma: no cover


@lru_cache(maxsize=256)
def _whole_pattern(tag: str) -> Any:
    """The locale's currency pattern without decimals, for whole amounts: ``¥20``, not ``¥20.00``."""
    pattern = copy.copy(_babel_locale(tag).currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern


@lru_cache(maxsize=64)
def _precision(currency: str) -> int:
    return int(get_currency_precision(currency))


@lru_cache(maxsize=4096)
def _format_money(minor: int, currency: str, tag: str) -> str:
    amount = Decimal(minor).scaleb(-_precision(currency))
    whole = amount.to_integral_value()
    if amount == whole:
        pattern, where = _whole_pattern(tag), _babel_locale(tag)
        return str(format_currency(whole, currency, format=pattern, locale=where, currency_digits=False))
    return str(format_currency(amount, currency, locale=_babel_locale(tag)))


@lru_cache(maxsize=4096)
def _format_date(day: date, format: str, tag: str) -> str:
    return str(format_date(day, format=format, locale=_babel_locale(tag)))


# Babel takes about 10 µs a call; coupon values and expiry days repeat, so both are cached.
@_pass_context
def _money(context: Context, minor: int | str, currency: str = "CNY", locale: str | None = None) -> str:
    return _format_money(int(minor), currency, locale or str(context.get("locale") or "en"))


@_pass_context
def _date(context: Context, value: date, format: str = "long", locale: str | None = None) -> str:
    if not isinstance(value, date):
        raise TypeError(f"the date filter needs a date or datetime, not {type(value).__name__}")
    day = value.date() if isinstance(value, datetime) else value
    return _format_date(day, format, locale or str(context.get("locale") or "en"))


# -- structure ---------------------------------------------------------------------------------------------------


def _structure_problems(ast: nodes.Template, filename: str) -> list[str]:
    """What makes a file unusable when its blocks are rendered one by one."""
    stem = Path(filename).name.removesuffix(SUFFIX)
    if stem.startswith("_") and stem != OPT_OUT:
        return []  # a partial is included whole, so anything goes
    problems = []
    blocks = set()
    for node in ast.body:
        if isinstance(node, nodes.Block):
            blocks.add(node.name)
        elif isinstance(node, nodes.Output) and all(
            isinstance(n, nodes.TemplateData) and not n.data.strip() for n in node.nodes
        ):
            continue
        elif isinstance(node, nodes.Extends):
            problems.append("{% extends %} is not supported: use {% include %} inside a block")
        else:
            problems.append(f"line {node.lineno}: {type(node).__name__.lower()} outside a block is never rendered")
    if stem == OPT_OUT:
        problems += [f"no {{% block {b} %}}" for b in ("sms", "email") if b not in blocks]
        problems += [f"unknown block {b!r}" for b in sorted(blocks - _OPT_OUT_BLOCKS)]
    else:
        if "text" not in blocks:
            problems.append("no {% block text %}")
        problems += [f"unknown block {b!r}" for b in sorted(blocks - _MESSAGE_BLOCKS)]
    return problems


def _variable(error: UndefinedError) -> str:
    message = str(error)
    for pattern in (r"^'([^']+)' is undefined", r"has no attribute '([^']+)'", r"has no element (.+)$"):
        found = re.search(pattern, message)
        if found:
            return found.group(1)
    return message


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    """Plain text as HTML: escaped, blank lines make paragraphs, single newlines line breaks."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [escape(line.strip()) for line in paragraph.strip().splitlines()]
        if lines:
            out.append(f"<p>{_BR.join(lines)}</p>")
    return "\n".join(out)


def _document(body: str, subject: str, locale: str, direction: str) -> str:
    lang = escape(locale)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="{direction}">\n'
        f'<head><meta charset="utf-8"><title>{escape(subject)}</title></head>\n'
        # The div repeats lang and dir: webmail clients drop the html and body attributes.
        f'<body>\n<div lang="{lang}" dir="{direction}">\n{body}\n</div>\n</body>\n</html>\n'
    )


# -- lookup ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    name: str  # relative to the roots: "zh-CN/win_back.j2"
    file: str  # where it was found, for messages
    text: Template
    html: Template | None  # compiled with autoescape, only when there is something to render as HTML


@dataclass(frozen=True)
class _Resolved:
    body: _Compiled
    locale: str  # the message's: the requested tag when the folder is in its language, else the folder's
    direction: str
    opt_out: _Compiled | None
    opt_out_tried: tuple[str, ...]


class TemplateRenderer:
    """Offers in, addressed ``RenderedMessage``s out; see the module docstring for layout and fallback chain."""

    def __init__(
        self,
        *,
        override_dir: Path | None,
        default_locale: str = "zh-CN",
        builtin_dir: Path = BUILTIN_DIR,
        default_time_zone: str = "Asia/Shanghai",
    ) -> None:
        default = normalise_locale(default_locale)
        if default is None:
            raise ValueError(f"default_locale {default_locale!r} is not a locale tag")
        self.default_locale = default
        self.default_zone = ZoneInfo(default_time_zone)
        self.roots: tuple[Path, ...] = (*((override_dir,) if override_dir is not None else ()), builtin_dir)
        self._loader = FileSystemLoader([str(r) for r in self.roots], encoding="utf-8")
        options: dict[str, Any] = {
            "loader": self._loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "auto_reload": False,
            "cache_size": 1000,
        }
        self._text_env = ImmutableSandboxedEnvironment(autoescape=False, **options)
        self._html_env = ImmutableSandboxedEnvironment(autoescape=True, **options)
        for env in (self._text_env, self._html_env):
            env.filters["money"] = _money
            env.filters["date"] = _date
        # Both environments have Jinja's default globals and nothing else.
        self._globals = dict(self._text_env.globals)
        self._resolved: dict[tuple[str, str, MessageType], _Resolved | Callable[[], RenderError]] = {}

    # -- public --------------------------------------------------------------------------------------------------

    def render(
        self,
        offer: OfferIssuedV1,
        channel: Channel,
        *,
        to: str,
        locale: str | None = None,
        unsubscribe_url: str | None = None,
        time_zone: str | None = None,
    ) -> RenderedMessage:
        """Render ``offer`` for ``channel``; ``locale`` and ``time_zone`` are the contact's own, when known."""
        requested = locale or offer.locale
        resolved = self._resolve(requested, offer.template, offer.message_type)
        body, message_locale, direction = resolved.body, resolved.locale, resolved.direction
        marketing = offer.message_type is MessageType.MARKETING
        if marketing and resolved.opt_out is None:
            raise OptOutMissing(
                f"marketing offer {offer.offer_id} ({offer.template}, {requested}) has no opt-out: "
                "no _opt_out.j2 in " + ", ".join(resolved.opt_out_tried)
            )
        if marketing and channel is Channel.EMAIL and not unsubscribe_url:
            raise OptOutMissing(f"marketing email for offer {offer.offer_id} needs an unsubscribe_url")

        # The globals (range, dict, …) under the variables, once: Jinja's own new_context merges them per block.
        variables: dict[str, Any] = {**self._globals, **offer.variables}
        variables.update(
            offer_id=offer.offer_id,
            campaign_id=offer.campaign_id,
            message_type=offer.message_type.value,
            coupon_code=offer.coupon_code,
            coupon_value_minor=offer.coupon_value_minor,
            sku=offer.sku,
            expires_at=offer.expires_at.astimezone(self._zone(time_zone)) if offer.expires_at else None,
            locale=message_locale,
            channel=channel.value,
            unsubscribe_url=unsubscribe_url,
        )
        subject = _one_line(self._block(body, body.text, "subject", variables, optional=True))
        text = self._block(body, body.text, "text", variables)
        html: str | None = None
        html_body = ""
        if channel is Channel.EMAIL:
            html_body = (
                self._block(body, body.html, "html", variables)
                if body.html is not None and "html" in body.html.blocks
                else _paragraphs(text)
            )
        if marketing:
            opt_out = resolved.opt_out
            assert opt_out is not None
            if channel is Channel.EMAIL:
                footer = self._block(opt_out, opt_out.text, "email", variables)
                footer_html = (
                    self._block(opt_out, opt_out.html, "email_html", variables)
                    if opt_out.html is not None
                    else _paragraphs(footer)
                )
                if footer_html not in html_body:
                    html_body = f"{html_body}\n{footer_html}"
                separator = "\n\n"
            else:
                footer = self._block(opt_out, opt_out.text, "sms", variables)
                separator = "\n"
            if not footer:
                raise OptOutMissing(f"{opt_out.file}: the opt-out for {channel.value} renders empty")
            if footer not in text:
                text = f"{text}{separator}{footer}"
        if channel is Channel.EMAIL:
            html = _document(html_body, subject, message_locale, direction)
        return RenderedMessage(
            channel=channel,
            to=to,
            locale=message_locale,
            text=text,
            subject=subject,
            html=html,
            idempotency_key=f"{offer.offer_id}:{channel.value}",
            unsubscribe_url=unsubscribe_url,
            message_type=offer.message_type,
            direction=direction,
            data=offer.variables,
        )

    def check(self) -> list[str]:
        """Compile every template file in both roots; one line per problem, empty when all is well."""
        problems: list[str] = []
        locales: set[str] = set()
        for root in self.roots:
            if not root.is_dir():
                problems.append(f"{root}: template folder does not exist")
                continue
            for file in sorted(root.rglob(f"*{SUFFIX}")):
                rel = file.relative_to(root)
                if len(rel.parts) != 2 or normalise_locale(rel.parts[0]) != rel.parts[0]:
                    problems.append(f"{file}: not at <locale>/<name>{SUFFIX} with a BCP 47 locale folder")
                    continue
                if not _NAME.fullmatch(rel.stem.removeprefix("_")):
                    problems.append(f"{file}: {rel.stem!r} is not a plain template name")
                    continue
                if not rel.stem.startswith("_"):
                    locales.add(rel.parts[0])
                problems += [f"{file}: {p}" for p in self._file_problems(file, rel.as_posix())]
        for tag in sorted(locales):
            chain = locale_chain(tag, self.default_locale)
            if self._find(chain, (OPT_OUT,))[0] is None:
                problems.append(
                    f"{tag}: no {OPT_OUT}{SUFFIX} in {' -> '.join(chain)}: its marketing messages would fail"
                )
        for kind in MessageType:
            if self._find([self.default_locale, _language(self.default_locale)], (kind.value,))[0] is None:
                problems.append(
                    f"{self.default_locale}: no {kind.value}{SUFFIX}: a {kind.value} offer whose template is "
                    "missing everywhere would fail"
                )
        return problems

    # -- internals -----------------------------------------------------------------------------------------------

    def _zone(self, name: str | None) -> ZoneInfo:
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, KeyError, OSError):
                pass  # an unknown zone on a contact is no reason to lose the message
        return self.default_zone

    def _file_problems(self, file: Path, name: str) -> list[str]:
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            return [f"unreadable: {e}"]
        try:
            ast = self._text_env.parse(source, name, str(file))
            self._text_env.compile(source, name, str(file))
            self._html_env.compile(source, name, str(file))
        except TemplateSyntaxError as e:
            return [f"line {e.lineno}: {e.message}"]
        problems = _structure_problems(ast, str(file))
        for node in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport)):
            target = getattr(node, "template", None)
            if isinstance(target, nodes.Const) and isinstance(target.value, str):
                try:
                    self._loader.get_source(self._text_env, target.value)
                except TemplateNotFound:
                    problems.append(f"line {node.lineno}: {target.value!r} is not in any template folder")
        return problems

    def _find(self, chain: Iterable[str], stems: Iterable[str]) -> tuple[tuple[str, str, Path] | None, list[str]]:
        """The first existing ``<root>/<locale>/<stem>.j2`` in lookup order, and every path tried."""
        tried: list[str] = []
        stems = list(dict.fromkeys(stems))
        for tag in chain:
            for stem in stems:
                for root in self.roots:
                    path = root / tag / f"{stem}{SUFFIX}"
                    tried.append(str(path))
                    if path.is_file():
                        return (tag, f"{tag}/{stem}{SUFFIX}", path), tried
        return None, tried

    def _resolve(self, requested: str, template: str, kind: MessageType) -> _Resolved:
        key = (requested, template, kind)
        found = self._resolved.get(key)
        if found is None:
            try:
                found = self._lookup(requested, template, kind)
            except RenderError as e:
                # Remember the failure too: a missing template must not cost a dozen stat calls per offer.
                found = _reraise(e)
            if len(self._resolved) >= _CACHE_LIMIT:
                self._resolved.clear()
            self._resolved[key] = found
        if isinstance(found, _Resolved):
            return found
        raise found()

    def _lookup(self, requested: str, template: str, kind: MessageType) -> _Resolved:
        if not _NAME.fullmatch(template) or template.endswith(SUFFIX):
            raise TemplateMissing(f"template name {template!r} is not a plain name (letters, digits, _ . -)")
        chain = locale_chain(requested, self.default_locale)
        hit, tried = self._find(chain, (template, kind.value))
        if hit is None:
            raise TemplateMissing(
                f"no template {template!r} or {kind.value!r} for locale chain {' -> '.join(chain)}; tried:\n  "
                + "\n  ".join(tried),
                tried,
            )
        tag, name, path = hit
        body = self._compile(name, path, html_block="html")
        # The opt-out is looked up from the text's own locale on: it must be in the language of the message.
        opt_hit, opt_tried = self._find(chain[chain.index(tag) :], (OPT_OUT,))
        opt_out = self._compile(opt_hit[1], opt_hit[2], html_block="email_html") if opt_hit else None
        wanted = normalise_locale(requested)
        message_locale = wanted if wanted and _language(wanted) == _language(tag) else tag
        return _Resolved(
            body=body,
            locale=message_locale,
            direction=text_direction(message_locale),
            opt_out=opt_out,
            opt_out_tried=tuple(opt_tried),
        )

    def _compile(self, name: str, path: Path, *, html_block: str) -> _Compiled:
        try:
            source, filename, _ = self._loader.get_source(self._text_env, name)
            problems = _structure_problems(self._text_env.parse(source, name, filename), filename or name)
            if problems:
                raise TemplateInvalid(f"{filename}: " + "; ".join(problems))
            text = self._text_env.get_template(name)
            html = self._html_env.get_template(name) if html_block in text.blocks else None
        except TemplateSyntaxError as e:
            raise TemplateInvalid(f"{e.filename or path}:{e.lineno}: {e.message}") from e
        return _Compiled(name=name, file=filename or str(path), text=text, html=html)

    @staticmethod
    def _block(
        compiled: _Compiled, template: Template | None, block: str, variables: dict[str, Any], optional: bool = False
    ) -> str:
        if template is None or block not in template.blocks:
            if optional:
                return ""
            raise TemplateInvalid(f"{compiled.file}: no {{% block {block} %}}")
        try:
            return "".join(template.blocks[block](template.new_context(variables, shared=True))).strip()
        except SecurityError as e:
            raise TemplateUnsafe(f"{compiled.file}, block {block}: {e}") from e
        except UndefinedError as e:
            name = _variable(e)
            raise TemplateVariableMissing(
                f"{compiled.file}, block {block}: variable {name!r} is undefined ({e})", name, compiled.file
            ) from e
        except RenderError:
            raise
        except Exception as e:  # a template is code written outside this repo: any failure is the template's
            raise TemplateInvalid(f"{compiled.file}, block {block}: {type(e).__name__}: {e}") from e


def _reraise(error: RenderError) -> Callable[[], RenderError]:
    """A fresh copy of a cached error each time: re-raising one instance would grow its traceback forever."""
    cls, args, attrs = type(error), error.args, dict(vars(error))

    def again() -> RenderError:
        fresh = cls.__new__(cls)
        Exception.__init__(fresh, *args)
        fresh.__dict__.update(attrs)
        return fresh

    return again
