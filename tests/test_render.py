"""Tests for the annual report renderer (pipeline/render.py) and its templates."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from pathlib import Path

import pytest

from pipeline import render
from tests import a11y

FIXTURE = Path(__file__).parent / "fixtures" / "key_metrics_sample.json"
META = {
    "demo": True,
    "generated_from": ["2024/interactions_2024.parquet", "2024/service_requests_2024.parquet"],
    "cancelled_note": "Cancelled requests include duplicates merged by divisions.",
    "not_available": [],
}
TITLE = "311 Toronto Customer Experience Annual Report 2024 (synthetic demo data)"


def load_metrics() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    start = time.perf_counter()
    paths = render.render_annual_report(load_metrics(), META, out)
    elapsed = time.perf_counter() - start
    html_path, pdf_path = paths
    return {
        "paths": paths,
        "html_path": html_path,
        "pdf_path": pdf_path,
        "html": html_path.read_text(encoding="utf-8"),
        "seconds": elapsed,
        "out": out,
    }


@pytest.fixture(scope="module")
def browser_page(rendered):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(a11y.CHROMIUM).exists():
        pytest.skip("Chromium not installed at /usr/bin/chromium")
    with playwright_api.sync_playwright() as p:
        browser = a11y.launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(rendered["html_path"].as_uri())
        yield page
        browser.close()


# --------------------------------------------------------------------------- interface


def test_writes_html_and_pdf_with_expected_names(rendered):
    html_path, pdf_path = rendered["paths"]
    assert html_path.name == "cx-annual-report-2024.html"
    assert pdf_path.name == "cx-annual-report-2024.pdf"
    assert pdf_path.read_bytes().startswith(b"%PDF-1.7")
    # no temporary files left behind
    assert sorted(p.name for p in rendered["out"].iterdir()) == [html_path.name, pdf_path.name]


def test_render_is_byte_identical_on_second_run(rendered, tmp_path):
    again = render.render_annual_report(load_metrics(), META, tmp_path)
    assert [sha256(p) for p in again] == [sha256(p) for p in rendered["paths"]]


def test_render_time_is_reasonable(rendered):
    assert rendered["seconds"] < 30


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.815, "82%"), (0.8149, "81%"), (0.82, "82%"), (0.005, "1%"), (0.0049, "0%"),
     (1.0, "100%"), (None, "n/a"), (-0.005, "\u22121%")],
)
def test_pct_rounds_half_away_from_zero(value, expected):
    assert render.fmt_pct(value) == expected
    assert render.ENV.filters["pct"](value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [((463000 - 487000) / 487000, "\u22125%"), (0.1013, "+10%"), (0.0, "0%"),
     (-0.004, "0%"), (-0.005, "\u22121%"), (None, "n/a")],
)
def test_signed_pct(value, expected):
    assert render.fmt_signed_pct(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(47, "0:00:47"), (292, "0:04:52"), (46.5, "0:00:47"), (3725.2, "1:02:05"), (None, "n/a")],
)
def test_hms(value, expected):
    assert render.fmt_hms(value) == expected


def test_thousands():
    assert render.fmt_thousands(1290000) == "1,290,000"
    assert render.fmt_thousands(999.5) == "1,000"
    assert render.fmt_thousands(None) == "n/a"
    assert render.fmt_thousands(0) == "0"


def test_environment_is_strict_and_escaping():
    env = render.ENV
    assert env.autoescape is True
    assert env.trim_blocks and env.lstrip_blocks
    assert {"thousands", "pct", "hms", "signed_pct"} <= set(env.filters)
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope }}").render()


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    "text", ["0:00:47", "0:04:52", "82%", "463,000", "\u22125%", "22,647", "1,290,000",
             "487,000", "62%", "32%", "6%", "Residential Bin Lid Damaged", "Scarborough-Rouge Park",
             "Synthetic demo data", "City of Toronto 311", "January 1 to December 31, 2024",
             "1,764,753", "2024/interactions_2024.parquet"],
)
def test_html_contains_expected_figures(rendered, text):
    assert text in rendered["html"]


def test_demo_notice_in_every_section(rendered):
    html = rendered["html"]
    sections = re.findall(r"<section\b.*?</section>", html, flags=re.S)
    assert len(sections) == 7
    for section in sections:
        assert "Synthetic demo data" in section


def test_no_demo_notice_for_real_data(tmp_path):
    html = render.render_html(load_metrics(), {**META, "demo": False})
    assert "Synthetic demo data" not in html
    assert "synthetic" not in a11y.html_title(html).lower()


def test_null_sections_and_metrics_render_not_available():
    metrics = load_metrics()
    metrics["knowledge_base"] = None
    metrics["phone"] = None
    metrics["email"] = None
    metrics["service_requests"]["median_days_to_close"] = None
    metrics["service_requests"]["on_time_rate"] = None
    html = render.render_html(metrics, META)
    assert "Median days to close</th><td class=\"num\">not available in this extract" in html
    assert "Closed on time (within the service standard)</th><td class=\"num\">not available" in html
    assert "Phone service levels: not available in this extract" in html
    assert "Knowledge-base article views: not available in this extract" in html
    assert a11y.html_structure_problems(html) == []


def test_everything_null_still_renders():
    metrics = {"year": 2024, "interactions": None, "general_inquiries": None, "phone": None,
               "email": None, "service_requests": None, "knowledge_base": None,
               "data_quality": None}
    html = render.render_html(metrics, {"demo": False, "generated_from": [],
                                        "cancelled_note": None, "not_available": []})
    assert "not available in this extract" in html
    assert ">0<" not in html and ">0%<" not in html
    assert a11y.html_structure_problems(html) == []


def test_markup_in_data_is_escaped():
    metrics = load_metrics()
    evil = "<script>alert(1)</script>"
    metrics["service_requests"]["top_types"][0]["sr_type"] = evil
    metrics["service_requests"]["by_ward"][0]["ward_name"] = evil
    meta = copy.deepcopy(META)
    meta["cancelled_note"] = evil
    meta["generated_from"] = [evil]
    html = render.render_html(metrics, meta)
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


# --------------------------------------------------------------------------- HTML structure


def test_html_structure(rendered):
    assert a11y.html_structure_problems(rendered["html"]) == []


def test_html_is_self_contained(rendered):
    html = rendered["html"]
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert not re.search(r"url\((?!\"?data:)", html.split("</style>")[0].split("<style>")[1])


def test_html_title_matches_pdf_title(rendered):
    assert a11y.html_title(rendered["html"]) == TITLE


# --------------------------------------------------------------------------- PDF


def test_pdfua_no_certain_errors(rendered):
    assert a11y.pdfua_errors(rendered["pdf_path"]) == []


def test_pdf_document_properties(rendered):
    problems = a11y.pdf_document_problems(
        rendered["pdf_path"], lang="en-CA", title=a11y.html_title(rendered["html"]))
    assert problems == []


def test_pdf_metadata(rendered):
    import pikepdf

    with pikepdf.open(rendered["pdf_path"]) as pdf:
        info = pdf.docinfo
        assert str(info["/Author"]) == "City of Toronto – Customer Experience Division"
        assert "January 1 to December 31, 2024" in str(info["/Subject"])
        outlines = pdf.Root.get("/Outlines")
        assert outlines is not None and "/First" in outlines  # bookmarks from headings


def test_pdf_headings_not_empty(rendered):
    assert a11y.pdf_headings(rendered["pdf_path"])  # there are headings to check
    assert a11y.pdf_empty_headings(rendered["pdf_path"]) == []


def test_pdf_figures_have_alt_text(rendered):
    count, problems = a11y.pdf_figures_without_alt(rendered["pdf_path"])
    assert problems == []
    assert count == rendered["html"].count('role="img"') == 2


def test_chart_svgs_are_labelled_by_first_child_title(rendered):
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", rendered["html"], flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        m = re.match(r'<svg\b[^>]*role="img"[^>]*aria-labelledby="([^"]+)"[^>]*><title id="([^"]+)">([^<]+)</title>', svg)
        assert m, svg[:300]
        assert m.group(1) == m.group(2)
        assert len(m.group(3)) > 40


# --------------------------------------------------------------------------- browser


def test_axe_no_wcag_violations(browser_page):
    browser_page.set_viewport_size({"width": 1280, "height": 900})
    assert a11y.axe_violations(browser_page) == []


def test_no_horizontal_scroll_at_320px(browser_page):
    assert a11y.horizontal_overflow(browser_page, 320) == 0
    assert a11y.axe_violations(browser_page) == []
