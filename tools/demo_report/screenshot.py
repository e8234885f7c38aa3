"""Screenshot a report with headless Chromium (Debian's ``chromium`` package), the whole page, as a PNG.

    python -m tools.demo_report.screenshot out/report.html docs/demo-report.png

Chromium's ``--screenshot`` captures the window only, so the window is made taller than the page
(doubling until the bottom rows are blank page background) and the blank rows are trimmed off.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PACKAGE = "chromium"
WIDTH = 1280
FIRST_HEIGHT = 6000
MAX_HEIGHT = 48000
MARGIN = 32  # px of background kept below the content
BLANK_ROWS = 40  # a capture ending in this many background rows holds the whole page


class ChromiumMissing(RuntimeError):
    pass


def find_chromium(explicit: str | None = None) -> str:
    """The browser to use: ``explicit``, ``$CHROMIUM``, or the first of ``CANDIDATES`` on PATH."""
    for name in (explicit, os.environ.get("CHROMIUM"), *CANDIDATES):
        if name and (found := shutil.which(name)):
            return found
    raise ChromiumMissing(
        f"headless Chromium not found: install Debian's package with `apt-get install -y {PACKAGE}` "
        "(or run `make demo-screenshot`, which does), or point $CHROMIUM at a Chrome/Chromium binary"
    )


def capture(browser: str, page: Path, png: Path, width: int, height: int, scale: float) -> None:
    """One viewport-sized screenshot of ``page`` into ``png``."""
    with tempfile.TemporaryDirectory(prefix="demo-report-chromium-") as profile:
        command = [
            browser,
            "--headless",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            f"--force-device-scale-factor={scale}",
            "--hide-scrollbars",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--mute-audio",
            f"--user-data-dir={profile}",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            page.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def content_height(image: Image.Image) -> int:
    """Rows down to the last one that differs from the bottom-left background pixel."""
    rgb = image.convert("RGB")
    background = rgb.getpixel((0, rgb.height - 1))
    mask = Image.new("RGB", rgb.size, background)

    box = ImageChops.difference(rgb, mask).getbbox()
    return 0 if box is None else box[3]


def screenshot(page: Path, out: Path, width: int = WIDTH, scale: float = 1.0, browser: str | None = None) -> Path:
    """The whole of ``page`` (an HTML file) as a PNG at ``out``, ``width`` CSS pixels wide."""
    if not page.is_file():
        raise FileNotFoundError(f"no such page: {page}")
    chromium = find_chromium(browser)
    out.parent.mkdir(parents=True, exist_ok=True)
    height = FIRST_HEIGHT
    with tempfile.TemporaryDirectory(prefix="demo-report-shot-") as tmp:
        raw = Path(tmp) / "raw.png"
        while True:
            raw.unlink(missing_ok=True)
            capture(chromium, page, raw, width, height, scale)
            with Image.open(raw) as image:
                image.load()
                bottom = content_height(image)
                if image.height - bottom >= BLANK_ROWS * scale or height >= MAX_HEIGHT:
                    keep = min(image.height, bottom + round(MARGIN * scale))
                    image.crop((0, 0, image.width, keep)).save(out, optimize=True)
                    return out
            height = min(height * 2, MAX_HEIGHT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("page", type=Path, help="the HTML report, e.g. out/report.html")
    parser.add_argument("png", type=Path, help="where to write the PNG, e.g. docs/demo-report.png")
    parser.add_argument("--width", type=int, default=WIDTH, help=f"window width in CSS pixels (default {WIDTH})")
    parser.add_argument("--scale", type=float, default=1.0, help="device scale factor (2 for a retina-sharp image)")
    parser.add_argument("--chromium", default=None, help="the browser binary (default: chromium on PATH)")
    args = parser.parse_args(argv)
    try:
        out = screenshot(args.page, args.png, args.width, args.scale, args.chromium)
    except (ChromiumMissing, FileNotFoundError, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"demo-report screenshot: {exc}", file=sys.stderr)
        return 2
    with Image.open(out) as image:
        print(f"wrote {out} ({image.width}×{image.height} px)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
