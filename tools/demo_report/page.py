"""The page: an autoescaping, sandboxed Jinja2 template filled with the header and the sections."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from tools.demo_report.facts import Facts
from tools.demo_report.view import header, sections

TEMPLATE_DIR = Path(__file__).parent
TEMPLATE = "report.html.j2"


@cache
def _template() -> Template:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE)


def render(facts: Facts) -> str:
    """The whole report as one HTML document; the same facts give the same bytes."""
    run_header = header(facts.get("run"))
    return _template().render(header=run_header, sections=sections(facts))
