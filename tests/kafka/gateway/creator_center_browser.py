"""Headless Chromium (Debian's ``chromium``, installed by scripts/chromium.sh) loading the
creator center page, and what the loaded DOM shows: cells by row and column, the estimate's
cards and the SVG bars of each chart."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ARTEFACTS = ROOT / ".local" / "test-artefacts"


def chromium() -> str:
    """The chromium binary; fails in CI (.ci/run installs it), skips elsewhere without it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: .ci/run installs it with scripts/chromium.sh")
    pytest.skip("no chromium on PATH: run scripts/chromium.sh (Debian's chromium package)")


class Dom(HTMLParser):
    """The dumped DOM's table cells (by section and row key, then column), the estimate's
    cards (by field), the SVG bars (by chart: "overview" or a week) and the body's state."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.status = ""
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        self.bars: dict[str, list[dict[str, str]]] = {}
        self.fields: dict[str, str] = {}
        self.notes: list[str] = []
        self._section = ""
        self._row: tuple[str, str] | None = None
        self._cell: tuple[dict[str, str], str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        if tag == "section" and "data-week" in a:
            self._section = a["data-week"]
        if tag == "table" and a.get("id") == "weeks-table":
            self._section = "overview"
        if tag == "tr" and ("data-week" in a or "data-item" in a):
            self._row = (self._section, a.get("data-week") or a["data-item"])
            self.rows[self._row] = {}
        if (tag in ("td", "div") and ("data-col" in a or "data-field" in a)) or (
                tag == "p" and a.get("id") in ("status", "estimate-note")):
            self._cell = (a, tag)
            self._text = []
        if tag == "rect" and "bar" in a.get("class", "").split():
            chart = "overview" if self._section in ("", "overview") else self._section
            self.bars.setdefault(chart, []).append(a)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._cell is None or tag != self._cell[1]:
            return
        attrs, _ = self._cell
        text = "".join(self._text).strip()
        if attrs.get("id") == "status":
            self.status = text
        elif attrs.get("id") == "estimate-note":
            self.notes.append(text)
        elif "data-field" in attrs:
            self.fields[attrs["data-field"]] = text
        elif self._row is not None:
            self.rows[self._row][attrs["data-col"]] = text
        self._cell = None


def browse(binary: str, url: str, profile: Path, *extra: str
           ) -> subprocess.CompletedProcess[str]:
    """One headless run (a fresh profile: a fresh sessionStorage); virtual time lets the
    page's API calls finish before the DOM is dumped or the screenshot taken."""
    return subprocess.run(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}",
         "--window-size=1280,2000", "--virtual-time-budget=15000", "--enable-logging=stderr",
         "--v=0", *extra, url],
        capture_output=True, text=True, timeout=120, check=False)


@dataclass(frozen=True)
class Loaded:
    """A page as the browser left it."""

    dom: Dom
    html: str
    stderr: str


def load(binary: str, url: str, profile: Path) -> Loaded:
    """Load ``url``, dump its DOM and parse it; fails with chromium's output if it could not,
    or if the Content-Security-Policy refused anything the page needs."""
    run = browse(binary, url, profile, "--dump-dom")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Content Security Policy" not in run.stderr, run.stderr[-3000:]
    dom = Dom()
    dom.feed(run.stdout)
    return Loaded(dom, run.stdout, run.stderr)


def screenshot(binary: str, url: str, profile: Path, name: str) -> Path:
    """A PNG of the page under .local/test-artefacts/ (printed, so the run's log names it)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / name
    shot.unlink(missing_ok=True)
    taken = browse(binary, url, profile, f"--screenshot={shot}")
    assert taken.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000, \
        taken.stderr[-3000:]
    print(f"\nscreenshot: {shot}")
    return shot
