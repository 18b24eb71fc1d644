"""The annual report and its appendices as written to disk (pipeline/report/annual.py): file
names, PDF/UA, and axe in Chromium (byte-identical re-runs: tests/slow/test_determinism.py). The HTML-only checks (figures,
missing data, escaping) are in tests/unit/test_documents.py."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.report.annual import render_annual_report
from pipeline.report.chart_specs import key_metric_specs
from tests.support import a11y
from tests.support.key_metrics import META, load_metrics
from tests.support.pdf_tables import table_semantics_report
from tests.support.pdf_text import page_fills, page_texts, pdf_text

# META has no narrative folder: every narrative text is the neutral default, so a draft
TITLE = "DRAFT – 311 Toronto Customer Experience Annual Report 2024 (synthetic demo data)"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


KINDS = ("annual", "appendix_a", "appendix_b")
NAMES = {
    "annual": "cx-annual-report-2024",
    "appendix_a": "appendix-a-key-metrics-2024",
    "appendix_b": "appendix-b-key-metrics-2024-text-only",
}
TITLES = {
    "annual": TITLE,
    "appendix_a": "DRAFT – Appendix A - 311 Toronto Key Metrics Report 2024 (synthetic demo data)",
    "appendix_b": "DRAFT – Appendix B - 311 Toronto Key Metrics Report 2024 (text only) (synthetic demo data)",
}
# the staff report's sections (h2), in order, as the PDF prints them (capitals)
STAFF_REPORT_HEADINGS = ["SUMMARY", "RECOMMENDATIONS", "FINANCIAL IMPACT", "DECISION HISTORY",
                         "COMMENTS", "CONTACT", "SIGNATURE", "ATTACHMENTS"]
# charts per document: annual = top 5 types, monthly service level, ward map; A = the 14
# key-metric charts; B = none
FIGURES = {"annual": 3, "appendix_a": 14, "appendix_b": 0}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    paths = render_annual_report(load_metrics(), META, out)
    docs = {}
    for kind, (html_path, pdf_path) in zip(KINDS, zip(paths[::2], paths[1::2], strict=True), strict=True):
        docs[kind] = {"html_path": html_path, "pdf_path": pdf_path,
                      "html": html_path.read_text(encoding="utf-8")}
    return {
        "paths": paths,
        "docs": docs,
        "html_path": docs["annual"]["html_path"],
        "pdf_path": docs["annual"]["pdf_path"],
        "html": docs["annual"]["html"],
        "out": out,
    }


@pytest.fixture(scope="module")
def browser(rendered):
    from playwright.sync_api import sync_playwright

    assert Path(a11y.CHROMIUM).exists(), "Chromium is needed: apt-get install -y chromium"
    with sync_playwright() as p:
        chromium = a11y.launch_chromium(p)
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        yield page
        chromium.close()


# --------------------------------------------------------------------------- interface


def test_writes_html_and_pdf_with_expected_names(rendered):
    names = [p.name for p in rendered["paths"]]
    assert names == [f"{NAMES[k]}.{ext}" for k in KINDS for ext in ("html", "pdf")]
    for doc in rendered["docs"].values():
        assert doc["pdf_path"].read_bytes().startswith(b"%PDF-1.7")
    # no temporary files left behind
    assert sorted(p.name for p in rendered["out"].iterdir()) == sorted(names)


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    "text", ["0:00:47", "0:04:52", "82%", "463,000", "decreased by 5% to 463,000, compared to 487,000 in 2023",
             "22,647", "1,290,000", "487,000", "62%", "32%", "6%", "Residential Bin Lid Damaged",
             "Scarborough-Rouge Park", "Synthetic demo data", "City of Toronto 311",
             "January 1 to December 31, 2024", "1,764,753", "2024/<wbr>interactions_<wbr>2024<wbr>.parquet"],
)
def test_html_contains_expected_figures(rendered, text):
    assert text in rendered["html"]


def test_demo_notice_in_every_section(rendered):
    """Every section holding figures carries the notice; the form's other sections (Recommendations,
    Financial Impact, Decision History, Contact, Signature, Attachments) hold none."""
    html = rendered["html"]
    sections = re.findall(r'<section id="([a-z-]+)".*?</section>', html, flags=re.S)
    assert sections == ["summary", "recommendations", "financial-impact", "decision-history", "comments",
                        "contact", "signature", "attachments"]
    blocks = re.findall(r"<section\b.*?</section>", html, flags=re.S)
    assert len(blocks) == len(sections) == 8
    for section in blocks:
        figures = 'id="summary"' in section or 'id="comments"' in section
        assert ("Synthetic demo data" in section) == figures


# --------------------------------------------------------------------------- HTML structure


def test_html_structure(rendered):
    assert a11y.html_structure_problems(rendered["html"]) == []


def test_html_is_self_contained(rendered):
    html = rendered["html"]
    assert "<script" not in html
    assert not re.search(r"""src=["']https?://""", html)
    # the only web addresses are the decision history's links (nothing is fetched)
    assert re.findall(r"""href=["'](https?://[^"']+)""", html) == [
        "https://secure.toronto.ca/council/agenda-item.do?item=2020.MM24.11",
        "https://secure.toronto.ca/council/agenda-item.do?item=2023.GG3.18"]
    assert not re.search(r"<link\b", html)
    assert not re.search(r"url\((?!\"?data:)", html.split("</style>")[0].split("<style>")[1])


def test_html_title_matches_pdf_title(rendered):
    assert a11y.html_title(rendered["html"]) == TITLE


# --------------------------------------------------------------------------- PDF


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
    assert count == rendered["html"].count('role="img"') == 3


def test_chart_svgs_are_labelled_by_first_child_title(rendered):
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", rendered["html"], flags=re.S)
    assert len(svgs) == 3
    for svg in svgs:
        m = re.match(r'<svg\b[^>]*role="img"[^>]*aria-labelledby="([^"]+)"[^>]*><title id="([^"]+)">([^<]+)</title>', svg)
        assert m, svg[:300]
        assert m.group(1) == m.group(2)
        assert len(m.group(3)) > 40


# --------------------------------------------------------------------------- all three documents


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_html_structure(rendered, kind):
    html = rendered["docs"][kind]["html"]
    assert a11y.html_structure_problems(html) == []
    assert a11y.html_title(html) == TITLES[kind]
    assert '<html lang="en-CA">' in html
    assert "<script" not in html


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_demo_notice_in_every_section(rendered, kind):
    sections = re.findall(r"<section\b.*?</section>", rendered["docs"][kind]["html"], flags=re.S)
    assert sections
    for section in sections:
        if kind == "annual" and not re.match(r'<section id="(summary|comments)"', section):
            continue  # the form's sections without figures (test_demo_notice_in_every_section)
        assert "Synthetic demo data" in section


@pytest.mark.parametrize("kind", KINDS)
def test_every_pdf_passes_pdfua(rendered, kind):
    pdf = rendered["docs"][kind]["pdf_path"]
    assert a11y.pdfua_errors(pdf) == []
    assert a11y.pdfua_skipped(pdf) == []  # nothing skipped but UA-14-001 (checked below)
    assert a11y.pdf_empty_headings(pdf) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_pdf_document_properties(rendered, kind):
    import pikepdf

    doc = rendered["docs"][kind]
    assert a11y.pdf_document_problems(doc["pdf_path"], lang="en-CA", title=TITLES[kind]) == []
    with pikepdf.open(doc["pdf_path"]) as pdf:
        assert "January 1 to December 31, 2024" in str(pdf.docinfo["/Subject"])
        assert str(pdf.docinfo["/Author"]) == "City of Toronto – Customer Experience Division"
        outlines = pdf.Root.get("/Outlines")
        assert outlines is not None and "/First" in outlines  # bookmarks


@pytest.mark.parametrize("kind", KINDS)
def test_every_pdf_figure_has_alt_and_one_per_chart(rendered, kind):
    doc = rendered["docs"][kind]
    count, problems = a11y.pdf_figures_without_alt(doc["pdf_path"])
    assert problems == []
    assert count == doc["html"].count('role="img"') == FIGURES[kind]


@pytest.mark.parametrize("kind", ["annual", "appendix_a"])
def test_every_chart_is_labelled_by_its_first_child_title(rendered, kind):
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", rendered["docs"][kind]["html"], flags=re.S)
    assert len(svgs) == FIGURES[kind]
    for svg in svgs:
        m = re.match(r'<svg\b[^>]*role="img"[^>]*aria-labelledby="([^"]+)"[^>]*><title id="([^"]+)">([^<]+)</title>', svg)
        assert m, svg[:300]
        assert m.group(1) == m.group(2)
        assert len(m.group(3)) > 40


def test_pdf_contents_has_page_numbers_and_running_header(rendered):
    import pikepdf

    for kind in KINDS:
        with pikepdf.open(rendered["docs"][kind]["pdf_path"]) as pdf:
            pages = len(pdf.pages)
        text = pdf_text(rendered["docs"][kind]["pdf_path"])
        assert f"Page 2 of {pages}" in text
        assert "City of Toronto 311" in text


def test_empty_heading_check_catches_an_empty_heading(rendered, tmp_path):
    """The replacement for pdfua's UA-14-001 must fail on a PDF that has an empty heading."""
    import pikepdf

    broken = tmp_path / "empty-heading.pdf"
    with pikepdf.open(rendered["docs"]["appendix_b"]["pdf_path"]) as pdf:
        root = pdf.Root.StructTreeRoot
        document = root.K if isinstance(root.K, pikepdf.Dictionary) else root.K[0]
        empty = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.H2, P=document, K=pikepdf.Array()))
        kids = document.K if isinstance(document.K, pikepdf.Array) else pikepdf.Array([document.K])
        kids.append(empty)
        document.K = kids
        pdf.save(broken)
    problems = a11y.pdf_empty_headings(broken)
    assert len(problems) == 1 and "empty heading /H2" in problems[0]


# --------------------------------------------------------------------------- appendices


class _TableParser(HTMLParser):
    """Collects every table by id: caption, header row and body rows as cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.current = None
        self.row = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs)["id"], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("th", "td", "caption") and self.current is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif tag == "caption" and self.cell is not None:
            self.current.append(["caption", "".join(self.cell).strip()])
            self.cell = None
        elif tag in ("th", "td") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    """Every table by id: caption, header row and body rows as cell texts."""
    parser = _TableParser()
    parser.feed(html)
    return parser.tables


def test_appendix_b_has_no_images(rendered):
    html = rendered["docs"]["appendix_b"]["html"]
    assert "<svg" not in html and "<img" not in html
    assert 'role="img"' not in html


def test_appendix_b_tables_equal_appendix_a_tables(rendered):
    a = _tables(rendered["docs"]["appendix_a"]["html"])
    b = _tables(rendered["docs"]["appendix_b"]["html"])
    specs = key_metric_specs(load_metrics(), with_svg=False)
    assert len(specs) == 14
    assert set(a) == set(b) == {f"table-{s.id}" for s in specs}
    for table_id, rows in a.items():
        assert rows == b[table_id], table_id
        assert len(rows) > 2, table_id


def test_appendix_a_has_a_table_after_every_chart(rendered):
    html = rendered["docs"]["appendix_a"]["html"]
    blocks = re.findall(r'<div class="metric".*?</table>', html, flags=re.S)
    # one block per key-metric chart: the 14 charts, each followed by its table
    assert len(blocks) == html.count('<div class="metric"') == FIGURES["appendix_a"] == 14
    for block in blocks:
        assert block.count("<svg") == 1
        assert block.index("<svg") < block.index("<table")


def test_appendix_b_gives_a_summary_sentence_for_every_chart(rendered):
    html = rendered["docs"]["appendix_b"]["html"]
    summaries = re.findall(r'<p class="summary">([^<]+)</p>', html)
    assert len(summaries) == 14
    assert all(s.endswith(".") and len(s) > 30 for s in summaries)


# --------------------------------------------------------------------------- figures vs key_metrics


# The fixture's figures formatted by hand (key_metrics_sample.json).
HEADLINES = {
    "annual": ["1,290,000", "463,000", "\u22125%", "487,000", "82%", "0:00:47", "0:04:52",
               "80%"],
    "appendix_a": ["1,006,200", "78%", "+22%", "\u22123%", "799,800", "62%", "0:00:47",
                   "0:04:52", "22,647", "Residential Bin Lid Damaged"],
}


def _cells(html: str) -> set[str]:
    return {cell for rows in _tables(html).values() for row in rows for cell in row}


def test_headline_figures_equal_key_metrics(rendered):
    metrics = load_metrics()
    annual = rendered["docs"]["annual"]["html"]
    # the summary's key figures, as written out by hand from the fixture
    assert "<strong>1,290,000</strong> customer interactions" in annual
    # the change in words, as the City writes it: (463,000 − 487,000) / 487,000 = −4.9% → 5%
    assert "Service requests decreased by 5% to 463,000, compared to 487,000 in 2023." in annual
    assert '<dd class="kpi-value">82%</dd>' in annual  # 0.82
    assert '<dd class="kpi-value">0:00:47</dd>' in annual  # 47 s
    assert '<dd class="kpi-value">0:04:52</dd>' in annual  # 292 s
    assert metrics["service_requests"]["total"] == 463000
    for kind in ("appendix_a", "appendix_b"):
        cells = _cells(rendered["docs"][kind]["html"])
        # channels: phone 1,006,200 of 1,290,000 = 78%, change −3.12% → −3%; mobile app +21.96% → +22%
        assert {"Phone", "1,006,200", "78%", "\u22123%", "+22%"} <= cells
        # types: general inquiries 799,800 = 62%
        assert {"General inquiries", "799,800", "62%"} <= cells
        # phone: July 74.1% → 74%, below target; ASA 47 s, AHT 292 s
        assert {"July 2024", "74%", "No", "0:00:47", "0:04:52", "0:01:18"} <= cells
        # top type and the KB's first article
        assert {"Residential Bin Lid Damaged", "22,647"} <= cells
        # transfers: July 0.9741 → 97.4% of 93,870; languages: Chinese 14,210 of 1,271,300 → 1.1%
        assert {"July 2024", "97.4%", "93,870", "Chinese", "14,210", "1.1%"} <= cells


# --------------------------------------------------------------------------- browser, all documents


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_axe_and_320px_reflow(rendered, browser, kind):
    """axe at 1280 px, no horizontal scroll at 320 px (WCAG 1.4.10 reflow), axe again at 320 px."""
    browser.set_viewport_size({"width": 1280, "height": 900})
    browser.goto(rendered["docs"][kind]["html_path"].as_uri())
    assert a11y.axe_violations(browser) == []
    assert a11y.horizontal_overflow(browser, 320) == 0
    assert a11y.axe_violations(browser) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_table_header_is_resolvable_and_scoped(rendered, kind):
    """/IDTree resolves every /Headers reference and every TH carries the scope its HTML cell has."""
    doc = rendered["docs"][kind]
    report = table_semantics_report(doc["pdf_path"])
    html = doc["html"]
    assert report["th"] >= html.count("<th ")  # the PDF repeats thead rows on continuation pages
    assert report["th_with_scope"] == report["th"]
    assert report["unresolved"] == report["duplicate_ids"] == report["ids_not_in_tree"] == 0
    assert report["headers_refs"] > 0 and report["id_tree_sorted"]
    # every row header in the HTML is a /Row header in the PDF, and nothing else is
    assert report["th_scope_row"] == html.count('<th scope="row"')


# --------------------------------------------------------------------------- the staff report (issue 12)


def test_pdf_shows_the_staff_report_headings_in_order(rendered):
    text = pdf_text(rendered["pdf_path"])
    lines = [line.strip() for line in text.splitlines()]
    found = [line for line in lines if line in STAFF_REPORT_HEADINGS]
    assert found == STAFF_REPORT_HEADINGS
    # page 1, as the City's staff reports: the header block, then the Summary (no cover page, no
    # contents page: the PDF's bookmarks give the sections)
    first = page_texts(rendered["pdf_path"])[0]
    for fact in ("Date: not dated (draft)", "To: Service Excellence Committee",
                 "From: Executive Director, Customer Experience", "Wards: All", "SUMMARY",
                 "This report responds to City Council's request"):
        assert fact in first, fact
    assert "Contents" not in pdf_text(rendered["pdf_path"])
    # a draft says so on page 1, with what still uses default text
    assert "DRAFT: Date, To, From, Wards" in " ".join(first.split())


def test_pdf_attachments_link_the_appendix_files(rendered):
    import pikepdf

    from pipeline.report.pdf_links import file_links

    annual = rendered["pdf_path"]
    assert file_links(annual) == ["appendix-a-key-metrics-2024.pdf", "appendix-b-key-metrics-2024-text-only.pdf"]
    with pikepdf.open(annual) as pdf:
        links = [a for page in pdf.pages for a in page.obj.get("/Annots") or []
                 if a.get("/A") is not None and a.A.get("/S") == pikepdf.Name.GoToR]
        assert {str(a.Contents) for a in links} == {"appendix-a-key-metrics-2024.pdf",
                                                   "appendix-b-key-metrics-2024-text-only.pdf"}
        # nothing points into the report generator's own folder
        uris = [str(a.A.URI) for page in pdf.pages for a in page.obj.get("/Annots") or []
                if a.get("/A") is not None and a.A.get("/S") == pikepdf.Name.URI]
        # (the default contact's e-mail is a blank, "[E-mail]": no mailto link)
        assert sorted(uris) == ["https://secure.toronto.ca/council/agenda-item.do?item=2020.MM24.11",
                                "https://secure.toronto.ca/council/agenda-item.do?item=2023.GG3.18"]
    attachments = pdf_text(annual).split("ATTACHMENTS")[-1]
    assert "Appendix A - 311 Toronto Key Metrics Report 2024 (file appendix-a-key-metrics-2024.pdf)" in attachments
    # Appendix A links Appendix B (and the report) by file
    assert file_links(rendered["docs"]["appendix_a"]["pdf_path"]) == [
        "cx-annual-report-2024.pdf", "appendix-b-key-metrics-2024-text-only.pdf"]


@pytest.mark.parametrize("kind", KINDS)
def test_no_authoring_text_in_the_written_documents(rendered, kind):
    for path in (rendered["docs"][kind]["html_path"], rendered["docs"][kind]["pdf_path"]):
        text = path.read_text(encoding="utf-8") if path.suffix == ".html" else pdf_text(path)
        for phrase in ("analyst replaces", "shipped with the report generator", "The analyst adds"):
            assert phrase not in text, (path.name, phrase)


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_running_head_and_title_say_draft(rendered, kind):
    import pikepdf

    pdf_path = rendered["docs"][kind]["pdf_path"]
    with pikepdf.open(pdf_path) as pdf:
        assert str(pdf.docinfo["/Title"]).startswith("DRAFT – ")
        count = len(pdf.pages)
    pages = page_texts(pdf_path)
    assert len(pages) == count > 1, kind  # every page read, and there are pages after the cover
    assert all(page.lstrip().startswith("DRAFT – ") for page in pages[1:]), kind


def test_pdf_dates_and_ward_names_do_not_wrap(rendered):
    text = pdf_text(rendered["pdf_path"])
    for date in ("Wednesday, February 28, 2024", "Tuesday, July 16, 2024", "Wednesday, July 17, 2024"):
        assert date in text
    for name in ("Humber River-Black Creek", "Scarborough-Rouge Park", "Scarborough-Agincourt"):
        assert name in text


def test_pdf_ward_table_leaves_no_short_tail(rendered):
    """The ward table breaks between groups of five rows: no page holds one or two ward rows."""
    wards = [w["ward_name"] for w in load_metrics()["service_requests"]["by_ward"]]
    rows_per_page = []
    for page in page_texts(rendered["pdf_path"]):
        rows = [line for line in page.splitlines()
                if re.match(r"\s*(\d{1,2}|–)\s{2,}(" + "|".join(map(re.escape, wards)) + r")\s{2,}[\d,]+\s", line)]
        if rows:
            rows_per_page.append(len(rows))
    assert sum(rows_per_page) == len(wards)
    assert min(rows_per_page) >= 5 or len(rows_per_page) == 1, rows_per_page


def test_pdf_keeps_charts_with_their_tables(rendered):
    """Table 1 (top 5) sits on the page of its chart; Table 3 (by month) on the page of its chart;
    every table caption on the page of its header row."""
    pages = page_texts(rendered["pdf_path"])
    top = next(p for p in pages if "Table 1: Top 5 Service Requests, 2024" in p)
    assert top.count("Residential Bin Lid Damaged") == 2  # the chart's bar label and the table row
    monthly = next(p for p in pages if "Table 3: Phone service level by month" in p)
    assert "Target 80%" in monthly and "Service level by month" in monthly
    for kind in KINDS:
        captions = 0
        for page in page_texts(rendered["docs"][kind]["pdf_path"]):
            for caption in re.findall(r"Table \d+: .*", page):
                captions += 1
                after = page[page.index(caption):]
                assert len(after.splitlines()) >= 3, (kind, caption)  # header and rows follow
        # each table's caption read once (6 in the report, 14 in each appendix)
        assert captions == rendered["docs"][kind]["html"].count("<caption") == {
            "annual": 6, "appendix_a": 14, "appendix_b": 14}[kind], kind


@pytest.mark.parametrize("kind", KINDS)
def test_no_page_is_left_mostly_empty(rendered, kind):
    """No page break is forced before a section or subsection, and a heading stays with its first
    block: every page but the last is filled at least a third of the way down its body (the
    report's pages 4, 5 and 7 were half blank, Appendix A's contents and "About" pages nearly
    empty)."""
    fills = page_fills(rendered["docs"][kind]["pdf_path"])
    assert len(fills) > 1
    assert [round(f, 2) for f in fills[:-1] if f < 1 / 3] == [], fills


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_on_a_phone_and_a_wide_screen(rendered, browser, kind):
    """Issue 27, in Chromium: at 360 and 320 px every chart's and map's text is at least 12 px
    (a chart scrolls sideways instead of shrinking), whatever is wider than its box scrolls in a
    focusable, labelled region with a visible cue, the header block's values sit beside their
    labels in one column; at 1280 px the contents' two columns keep each section with its
    sub-list (Comments 4–9 no longer above 6) and no cue is shown."""
    browser.set_viewport_size({"width": 1280, "height": 900})
    browser.goto(rendered["docs"][kind]["html_path"].as_uri())
    assert a11y.layout_problems(browser, 1280) == []
    assert browser.evaluate("[...document.querySelectorAll('.scroll-cue')].filter(e => e.offsetParent).length") == 0
    for width in (360, 320):
        assert a11y.layout_problems(browser, width) == [], width
        assert a11y.horizontal_overflow(browser, width) == 0
    # what the checks look at is there
    browser.set_viewport_size({"width": 360, "height": 900})
    assert browser.evaluate("document.querySelectorAll('.table-wrap').length") > 0
    if kind != "appendix_b":
        assert browser.evaluate("document.querySelectorAll('figure.chart-figure[tabindex=\"0\"]').length") == FIGURES[kind]
    browser.set_viewport_size({"width": 1280, "height": 900})


def test_long_file_names_break_between_their_parts_on_a_phone(browser, tmp_path):
    """The Sources list of a report read from long file names: on a 320 px screen each name
    breaks after '/' or '_' or before '.', never inside a word ("…parque / t")."""
    from pipeline.report.annual import render_html

    names = ["2024/service_requests_2024_delivered_2025_03_31.parquet",
             "2024/interactions_2024_second_half_corrected.csv.gz", "open_data/SR2024_customer_initiated.zip"]
    meta = {**META, "generated_from": names,
            "sources": [{"file": n, "read_as": None, "notes": None} for n in names]}
    metrics = load_metrics()
    path = tmp_path / "report.html"
    path.write_text(render_html(metrics, meta, "html", "annual", key_metric_specs(metrics, with_svg=False)),
                    encoding="utf-8")
    browser.goto(path.as_uri())
    for width in (320, 360):
        assert a11y.layout_problems(browser, width) == [], width
    # the check looks at names that do wrap at 320 px
    browser.set_viewport_size({"width": 320, "height": 900})
    assert browser.evaluate("[...document.querySelectorAll('ul.sources code.file')]"
                            ".filter(c => c.getClientRects().length > 1).length") >= 2
    browser.set_viewport_size({"width": 1280, "height": 900})
