"""The demo's HTML report: every chart and section from full facts, honest gaps, escaping, no network, stable bytes."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from tools.demo_report import render_report, write_report
from tools.demo_report import screenshot as shot
from tools.demo_report.facts import Facts
from tools.demo_report.model import NOT_MEASURED
from tools.demo_report.sample import sample_facts

REPO = Path(__file__).resolve().parents[3]
CHARTS = (
    "engagement-tiers",
    "value-tiers",
    "lifecycle-flows",
    "lifecycle-states",
    "churn-warnings",
    "offers-by-kind",
    "suppressions",
    "funnel",
    "uplift",
    "delivery",
    "throughput",
    "lag",
)
SECTIONS = (
    "Members by tier",
    "Lifecycle",
    "Churn warnings",
    "Campaigns",
    "Delivery",
    "Pipeline throughput",
    "Accounting checks",
    "Members now",
    "BG/NBD model",
    "Endpoints",
)
BLOCKS = (
    "Engagement tiers over time",
    "Value tiers over time",
    "Lifecycle flows over the run",
    "Lifecycle states over time",
    "Churn warnings over time, by reason",
    "Did the warnings catch the churners?",
    "Campaign decisions per offer kind",
    "Suppressions by reason",
    "Campaign funnel",
    "Uplift per campaign",
    "Delivery outcomes per channel",
    "Pipeline throughput",
    "Consumer lag over run time",
    "Per service",
    "The books",
    "Dead letters by reason",
    "Members at the end of the run",
    "Members at risk now, by reason",
    "BG/NBD parameters",
)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def full() -> str:
    return render_report(sample_facts())


def only(*sections: str) -> Facts:
    """The sample with only these sections (charts are slow to draw; most tests need one or two)."""
    sample = sample_facts()
    return cast(Facts, {key: sample[key] for key in sections})  # type: ignore[literal-required]


def balanced(ok: bool) -> Facts:
    facts = only("run", "accounting", "dlq")
    accounting = facts["accounting"]
    accounting["balanced"] = ok
    accounting["dlq_balanced"] = True
    accounting["dlq_seen"] = accounting["dlq_planted"] = 195
    if not ok:
        accounting["notifier_pending"] += 7
    return facts


def test_every_chart_is_one_inline_svg(full):
    assert full.count("<svg") == len(CHARTS)
    for key in CHARTS:
        assert full.count(f'aria-label="{key}"') == 1, key


def test_every_section_and_block_has_its_title(full):
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in full, title
    for title in BLOCKS:
        assert f"<h3>{title.replace('&', '&amp;')}</h3>" in full, title
    assert NOT_MEASURED not in full


def test_chart_ids_are_unique_on_the_page(full):
    ids = re.findall(r'\bid="([^"]+)"', full)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', full)):
        target = ref[0] or ref[1]
        assert target in ids, target


def test_the_header_carries_the_run(full):
    assert "Generated retail chain · seed 42 · 18 months of history · 2024-01-01 → 2025-06-30" in full
    assert "Run started 2025-07-01T09:30:00+00:00" in full
    assert "182,400" in full


def test_balanced_books_get_a_tick():
    page = render_report(balanced(True))
    assert 'class="verdict ok">✓ Every check balances.' in page
    assert "✓ balanced" in page
    assert "✗" not in page


def test_unbalanced_books_get_a_cross():
    page = render_report(balanced(False))
    assert 'class="verdict bad">✗ Some checks do not balance' in page
    assert '<td class="bad">✗ off</td>' in page
    # The sums are shown so the reader can check them: 4,664 + 91 + 61 + 21 = 4,837 against 4,830 issued.
    assert "4,664 + 91 + 61 + 21 = 4,837" in page


def test_hostile_strings_are_escaped_everywhere():
    facts = only(
        "run", "offers_by_kind", "funnel", "uplift", "suppressions", "delivery", "dlq", "churn_recovery", "endpoints"
    )
    facts["offers_by_kind"][0]["campaign"] = HOSTILE
    facts["funnel"][0]["campaign"] = HOSTILE
    facts["uplift"][0]["campaign"] = HOSTILE
    facts["suppressions"][0]["reason"] = HOSTILE
    facts["delivery"][0]["channel"] = HOSTILE
    facts["dlq"][0]["reason"] = HOSTILE
    facts["churn_recovery"]["definition"] = HOSTILE
    facts["run"]["started_at"] = HOSTILE
    facts["endpoints"] = [{"name": HOSTILE, "url": "javascript:alert(1)"}, {"name": "x", "url": '"><script>'}]
    page = render_report(facts)
    assert "<script" not in page.lower()
    assert 'href="javascript' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_nothing_is_loaded_from_the_network(full):
    page = full
    for endpoint in sample_facts()["endpoints"]:
        page = page.replace(endpoint["url"], "")
    assert not re.search(r"https?://", page)
    for needle in ("<link", "<script", "src=", "@import", "url(http"):
        assert needle not in page.lower()


def test_the_same_facts_give_the_same_bytes(full):
    assert render_report(sample_facts()) == full


def test_the_same_facts_give_the_same_bytes_in_another_process(full):
    code = (
        "import hashlib; from tools.demo_report import render_report; "
        "from tools.demo_report.sample import sample_facts; "
        "print(hashlib.sha256(render_report(sample_facts()).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == hashlib.sha256(full.encode()).hexdigest()


def test_a_run_alone_renders_and_says_what_was_not_measured():
    page = render_report({"run": sample_facts()["run"]})
    assert page.count("<svg") == 0
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in page
    for title in BLOCKS:
        assert f"<b>{title}</b>: {NOT_MEASURED}." in page, title
    assert f"<b>Endpoints</b>: {NOT_MEASURED}." in page
    assert "5,000" in page


def test_no_facts_at_all_still_render():
    page = render_report({})
    assert "Run facts: not measured in this run." in page


def test_a_section_that_cannot_be_drawn_says_so_and_the_rest_still_renders():
    facts = only("run", "uplift", "delivery")
    del facts["uplift"][0]["ci_low"]  # type: ignore[misc]
    page = render_report(facts)
    assert "could not draw this: KeyError: &#39;ci_low&#39;" in page
    assert page.count("<svg") == 1  # delivery


def test_missing_published_bgnbd_says_there_is_no_reference():
    facts = only("bgnbd")
    facts["bgnbd"]["published"] = None
    assert "There is no published reference for this data." in render_report(facts)


def test_write_report_creates_the_directory(tmp_path):
    path = write_report(only("run", "endpoints"), tmp_path / "a" / "report.html")
    assert path.read_text(encoding="utf-8") == render_report(only("run", "endpoints"))


def test_the_screenshot_tool_names_the_package_when_chromium_is_missing(monkeypatch, tmp_path, capsys):
    page = tmp_path / "report.html"
    page.write_text("<html></html>")
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.delenv("CHROMIUM", raising=False)
    assert shot.main([str(page), str(tmp_path / "shot.png")]) == 2
    assert "apt-get install -y chromium" in capsys.readouterr().err


def test_the_screenshot_is_trimmed_to_the_content():
    image = Image.new("RGB", (40, 300), (243, 244, 246))
    image.paste((255, 255, 255), (5, 10, 35, 120))
    assert shot.content_height(image) == 120
