"""The HTML report (``retailcrm report``): every section, embedded figures, no external request,
the same numbers in both languages, and a real browser opening it."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("matplotlib", reason="the report draws figures with matplotlib (extra 'plot')")

from retailcrm._report import SECTIONS, Report, build_report
from retailcrm._report._i18n import TEXT
from retailcrm.data import sample_data

AS_OF = "2024-12-31"
N = 600  # small enough to be quick, large enough for the BG/NBD and Gamma-Gamma fits
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {lang: build_report(as_of=AS_OF, sample_customers=N, lang=lang) for lang in TEXT}


class _Page(HTMLParser):
    """Collects what a browser would fetch or run: every attribute value, every tag, the text
    of <style> and of <script> elements, and the sections with their headings and images."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.headings: dict[str, str] = {}
        self.images: dict[str, int] = {}
        self._section: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self._section = a.get("id")
        elif tag == "img" and self._section:
            self.images[self._section] = self.images.get(self._section, 0) + 1
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)
        elif self._in == "h2" and self._section:
            self.headings[self._section] = data


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def flat(numbers: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` as ``{"a/b": 1}``, to compare reports number by number."""
    if isinstance(numbers, dict):
        out: dict[str, Any] = {}
        for key, value in numbers.items():
            out.update(flat(value, f"{prefix}{key}/"))
        return out
    return {prefix.rstrip("/"): numbers}


def assert_same_numbers(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal keys; equal values up to float rounding (sums in another order)."""
    a, b = flat(got), flat(expected)
    assert a.keys() == b.keys()
    for key, value in b.items():
        if isinstance(value, float):
            assert a[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
        else:
            assert a[key] == value, key


def _numbers(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="retailcrm-numbers">(.*?)</script>', html
    )
    assert found is not None
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_section_has_its_heading_a_reading_and_a_figure(
    reports: dict[str, Report], lang: str
) -> None:
    page = _page(reports[lang].html())
    assert list(page.headings) == list(SECTIONS)
    assert page.headings == {s: TEXT[lang][s] for s in SECTIONS}
    assert all(page.images.get(s, 0) >= 1 for s in SECTIONS), page.images
    images = [a["src"] for tag, a in page.tags if tag == "img"]
    assert images and all(str(src).startswith("data:image/png;base64,") for src in images)
    # the reading sentences carry the section's own numbers
    report = reports[lang]
    kpis = report.numbers["kpis"]
    by_id = {s.id: s for s in report.sections}
    assert f"{int(kpis['orders']['current']):,}" in by_id["kpis"].reading[0]
    assert f"{report.numbers['nps']['nps']:+.1f}" in by_id["nps"].reading[0]
    assert all(s.reading for s in report.sections)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_requests_nothing_from_any_host(reports: dict[str, Report], lang: str) -> None:
    html = reports[lang].html()
    page = _page(html)
    external = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            value = attrs.get(name)
            assert value is None or not external.match(value), (tag, name, value)
        if tag == "script":
            assert "src" not in attrs and attrs.get("type") == "application/json"
        if "href" in attrs:
            assert str(attrs["href"]).startswith("#")  # only the table of contents
    css = "\n".join(page.styles)
    assert "@import" not in css and "@font-face" not in css
    assert re.search(r"url\(", css) is None
    assert all("style" not in attrs for _, attrs in page.tags)  # no inline style url()
    assert not re.search(r"https?://", html.replace("http://www.w3.org", ""))


def test_both_languages_compute_the_same_numbers(reports: dict[str, Report]) -> None:
    assert_same_numbers(reports["zh"].numbers, reports["en"].numbers)
    assert _numbers(reports["zh"].html()) == json.loads(json.dumps(reports["zh"].numbers))
    assert len(flat(reports["en"].numbers)) > 80
    zh = reports["zh"].html()
    assert '<html lang="zh-Hans">' in zh and "客户分群与画像" in zh and "冠军客户" in zh


def test_the_numbers_match_a_direct_computation(reports: dict[str, Report]) -> None:
    """The headline numbers recomputed with plain pandas from the same sample."""
    numbers = reports["en"].numbers
    tx = sample_data(N).transactions
    # revenue is net by order: a return line counts against its order, in the order's month;
    # an order counts when its net amount is positive
    orders = tx.groupby("order_id").agg(placed=("timestamp", "min"), net=("amount", "sum"))
    december = orders[(orders["placed"] >= "2024-12-01") & (orders["placed"] < "2025-01-01")]
    assert numbers["kpis"]["revenue"]["current"] == pytest.approx(december["net"].sum())
    assert numbers["kpis"]["orders"]["current"] == (december["net"] > 0).sum()
    assert numbers["customers"] == N
    # every customer is in exactly one segment and one lifecycle stage
    assert sum(s["customers"] for s in numbers["segments"].values()) == N
    assert sum(numbers["stages"].values()) == N
    assert sum(t["members"] for t in numbers["tiers"].values()) == N
    segment_shares = sum(s["share"] for s in numbers["segments"].values())
    assert segment_shares == pytest.approx(1.0)
    # 12 months of KPI history, the last one December's
    assert list(numbers["monthly"])[-1] == "2024-12"
    assert numbers["monthly"]["2024-12"]["revenue"] == pytest.approx(december["net"].sum())
    assert -100 <= numbers["nps"]["nps"] <= 100
    assert 0 < numbers["value"]["clv_top_decile_share"] < 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_report_on_frames_without_a_survey_says_so_and_mutates_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = sample_data(300, seed=1)
    before = data.transactions.copy()
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    report = build_report(
        data.transactions, as_of=AS_OF, customers=data.customers, lang="zh", progress=True
    )
    pd.testing.assert_frame_equal(data.transactions, before)
    # on a terminal, a progress bar names the steps (tqdm redraws the line in place)
    shown = terminal.getvalue()
    assert "retailcrm report" in shown and "features" in shown and "models" in shown
    nps = next(s for s in report.sections if s.id == "nps")
    assert nps.figures == () and nps.reading == (TEXT["zh"]["read.nps_missing"],)
    assert report.numbers["nps"] is None
    assert [s.id for s in report.sections] == list(SECTIONS)
    assert report.numbers["customers"] == 300


def test_both_languages_have_the_same_sentences_and_placeholders() -> None:
    assert TEXT["en"].keys() == TEXT["zh"].keys()
    fields = re.compile(r"\{(\w*)")
    for key, sentence in TEXT["en"].items():
        assert sorted(fields.findall(sentence)) == sorted(fields.findall(TEXT["zh"][key])), key


def test_the_chinese_report_names_statuses_and_portrait_features_in_chinese(
    reports: dict[str, Report],
) -> None:
    from retailcrm._report._i18n import FEATURE_NAMES_ZH, feature_names
    from retailcrm.loyalty import STATUSES

    assert all(f"status.{s}" in TEXT["zh"] for s in STATUSES)  # every status has a header
    assert feature_names("zh", "recency_days +2.0 sd, n_categories -1.1 sd") == (
        "最近购买距今天数 +2.0 sd，购买品类数 -1.1 sd"
    )
    assert feature_names("en", "recency_days +2.0 sd") == "recency_days +2.0 sd"
    page = reports["zh"].html()
    assert "已触达" in page and ">contacted<" not in page
    assert any(name in page for name in FEATURE_NAMES_ZH.values())


# ----------------------------------------------------------------------------------------------
# A real browser
# ----------------------------------------------------------------------------------------------
def _screenshot(page: Path, png: Path) -> list[str]:
    """Open ``page`` in headless Chromium, save a 1200x3000 screenshot, return the console
    lines it logged. With ``--enable-logging=stderr --v=0`` Chromium writes every console
    message (console.error, an uncaught exception, a blocked or failed load reported to the
    console) to stderr as ``...:INFO:CONSOLE:<line>] "message", source: ...``."""
    assert CHROMIUM is not None
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={png}",
            "--window-size=1200,3000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return [line for line in run.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _colours(png: Path) -> int:
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 24) or ())


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium; .ci/run "
    "installs it so CI runs this test)",
)
def test_the_report_opens_in_chromium_without_console_errors(
    reports: dict[str, Report], tmp_path: Path
) -> None:
    pytest.importorskip("PIL", reason="reading the screenshot needs Pillow (from matplotlib)")
    # the check itself: a page with a console error and an exception is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<p>x</p><script>console.error('boom'); missing();</script>")
    caught = _screenshot(bad, tmp_path / "bad.png")
    assert any("boom" in line for line in caught) and any("Uncaught" in line for line in caught)
    page = tmp_path / "report.html"  # Chinese: the harder page (CJK text, longer lines)
    reports["zh"].write(page)
    png = tmp_path / "report.png"
    assert _screenshot(page, png) == []
    assert png.stat().st_size > 10_000
    assert _colours(png) > 50  # text, tables and figures: far from one flat colour
