"""The staff-report form (pipeline/report/front_matter.py, narrative.py, annual_report.html):
report.yaml's schema and errors, the draft, `report --final`, no authoring text in a document,
and the glitches of issue 12 that the HTML shows (the PDF layout is in
tests/integration/test_render.py, the Open Data extract in tests/slow/test_open_data.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from pipeline.cli import check_narrative, main
from pipeline.report import front_matter, narrative
from pipeline.report.annual import render_html
from pipeline.report.chart_specs import key_metric_specs
from pipeline.report.front_matter import FrontMatterError
from tests.support import a11y
from tests.support.key_metrics import load_metrics

KINDS = ("annual", "appendix_a", "appendix_b")
# what the old defaults printed inside the documents (a standing check greps output/ for these)
AUTHORING_TEXT = ("analyst replaces", "shipped with the report generator", "The analyst adds",
                  "No recommendations were provided", "narrative/2024/")

COMPLETE_YAML = """\
date: 2025-05-01
to: Service Excellence Committee
from: Executive Director, Customer Experience
wards: All
purpose: This report responds to MM24.11 and reports on {{ settings.service }} in {{ year }}.
recommendations:
  - The Service Excellence Committee receive this report for information.
  - The Service Excellence Committee forward this report to City Council.
financial_impact: |
  There is no financial impact. The report counts {{ service_requests.total | thousands }} requests.
cfo_review: The Chief Financial Officer and Treasurer has reviewed this report.
decision_history:
  - meeting: September 30, October 1 and 2, 2020
    text: City Council adopted MM24.11.
    link: https://secure.toronto.ca/council/agenda-item.do?item=2020.MM24.11
contact:
  name: Ada Lovelace
  title: Director, 311 Operations
  phone: 416-392-0000
  email: ada.lovelace@toronto.ca
signature:
  name: Grace Hopper
  title: Executive Director, Customer Experience
"""


def render(metrics: dict, meta: dict, output: str = "html", kind: str = "annual") -> str:
    """One document's HTML without drawing the appendix charts (these tests read the text)."""
    return render_html(metrics, meta, output, kind, key_metric_specs(metrics, with_svg=False))


def meta(narrative_dir: Path | None, demo: bool = False) -> dict:
    return {"demo": demo, "generated_from": ["2023/a.csv", "2024/a.csv"], "cancelled_note": None,
            "not_available": [], "narrative_dir": narrative_dir}


@pytest.fixture
def ndir(tmp_path: Path) -> Path:
    d = tmp_path / "raw" / "narrative" / "2024"
    d.mkdir(parents=True)
    return d


def complete(ndir: Path) -> Path:
    """A narrative folder with nothing missing: the documents are final."""
    (ndir / "report.yaml").write_text(COMPLETE_YAML, encoding="utf-8")
    for section in narrative.NARRATIVE_SECTIONS:
        (ndir / f"{section.key}.md").write_text(f"The {section.key} of {{{{ year }}}}.\n", encoding="utf-8")
    return ndir


# --------------------------------------------------------------------------- report.yaml


def test_a_complete_report_yaml_is_read_with_its_types(ndir):
    (ndir / "report.yaml").write_text(COMPLETE_YAML, encoding="utf-8")
    values, missing, path = front_matter.read_front_matter(ndir)
    assert missing == [] and path == ndir / "report.yaml"
    assert values["date"] == dt.date(2025, 5, 1)
    assert values["contact"] == [{"name": "Ada Lovelace", "title": "Director, 311 Operations",
                                  "phone": "416-392-0000", "email": "ada.lovelace@toronto.ca"}]
    assert values["decision_history"][0]["link"].endswith("2020.MM24.11")
    assert len(values["recommendations"]) == 2
    assert values["decision_history"][0]["meeting"] == "September 30, October 1 and 2, 2020"
    assert list(front_matter.FIELDS) == ["date", "to", "from", "wards", "purpose", "recommendations",
                                         "financial_impact", "cfo_review", "decision_history", "contact",
                                         "signature"]


def test_the_shipped_default_is_valid_and_marked_as_demo():
    text = front_matter.DEFAULT_PATH.read_text(encoding="utf-8")
    assert text.startswith("# DEMO DEFAULT")
    values = front_matter.default_front_matter()
    assert values["date"] is None  # a default report is never dated
    assert values["recommendations"] == ["The Service Excellence Committee receive this report for information."]
    assert values["to"] == "Service Excellence Committee"
    assert values["decision_history"][0]["link"] == \
        "https://secure.toronto.ca/council/agenda-item.do?item=2020.MM24.11"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("to: Service Excellence Committee\ntoo: typo\n", 2, "unknown key 'too' (the keys are date, to, from"),
    ("date: tomorrow\n", 1, "'date' must be a date written YYYY-MM-DD (e.g. 2025-05-01), not the text 'tomorrow'"),
    ("wards: All\nrecommendations: Receive for information.\n", 2,
     "'recommendations' must be a list of sentences (the numbered recommendations), not the text"),
    ("to: [a, b]\n", 1, "'to' must be text, not a list"),
    ("contact:\n  name: Ada\n  mobile: 416\n", 3, "unknown key 'mobile' in 'contact' (the keys are name, title, phone and email)"),
    ("decision_history:\n  - text: MM24.11\n    link: secure.toronto.ca/x\n", 3,
     "'link' must be an http:// or https:// address, not 'secure.toronto.ca/x'"),
    ("decision_history:\n  - link: https://x.ca\n", 2, "a 'decision_history' item needs its text"),
    ("signature: Grace Hopper\n", 1, "'signature' must be a mapping with name and title, not the text"),
    ("to: A\nto: B\n", 2, "'to' is given twice"),
    ("wards: All\nto: [unclosed\n", 3, "not valid YAML"),
    ("- a list\n", 1, "the file must be a mapping of keys"),
])
def test_a_bad_report_yaml_stops_with_file_and_line(ndir, text, line, message):
    (ndir / "report.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FrontMatterError) as error:
        front_matter.read_front_matter(ndir)
    assert str(error.value).startswith(f"raw/narrative/2024/report.yaml:{line}: "), str(error.value)
    assert message in str(error.value)
    assert "\n" not in str(error.value)  # one paragraph


def test_a_bad_report_yaml_stops_the_render_before_writing(ndir, tmp_path):
    from pipeline.errors import CxError
    from pipeline.report.annual import render_annual_report

    (ndir / "report.yaml").write_text("date: 2025-13-01\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(CxError, match=r"report\.yaml:1: 'date' must be a date"):
        render_annual_report(load_metrics(), meta(ndir), out)
    assert not out.exists() or not any(out.iterdir())


def test_the_retired_recommendations_file_is_refused_with_where_its_text_goes(ndir):
    (ndir / "recommendations.md").write_text("- Hire agents.\n", encoding="utf-8")
    with pytest.raises(narrative.NarrativeError, match=r"recommendations\.md: the recommendations are the "
                       r"numbered list 'recommendations:' in report\.yaml"):
        narrative.missing_items(ndir)


# --------------------------------------------------------------------------- the staff report's form


def test_the_annual_report_follows_the_staff_report_form(ndir):
    html = render(load_metrics(), meta(complete(ndir)))
    order = ["summary", "recommendations", "financial-impact", "decision-history", "comments",
             "contact", "signature", "attachments"]
    positions = [html.index(f'<section id="{s}"') for s in order]
    assert positions == sorted(positions)
    assert re.findall(r'<section id="([a-z-]+)"', html) == order
    comments = html[positions[4]:positions[5]]
    subsections = re.findall(r'<div id="([a-z-]+)" class="subsection">\s*<h3[^>]*>([^<]+)</h3>', comments)
    assert subsections == [
        ("inquiries-and-requests", "General Inquiries and Service Requests"),
        ("general-inquiries", "General Inquiries"), ("service-requests", "Service Requests"),
        ("phone", "Phone Channel Service Levels"), ("events", "Events of 2024"),
        ("partnerships", "Partnerships and Enhancements"), ("ongoing-improvements", "Ongoing Improvements"),
        ("wards", "Service Requests by Ward"), ("data-notes", "Data Notes and Sources")]
    # header block
    for dt_, dd in (("Date", "May 1, 2025"), ("To", "Service Excellence Committee"),
                    ("From", "Executive Director, Customer Experience"), ("Wards", "All")):
        assert f"<div><dt>{dt_}</dt><dd>{dd}</dd></div>" in html
    # recommendations: a numbered list
    assert ("<p>The Executive Director, Customer Experience recommends that:</p>\n<ol class=\"recommendations\">\n"
            "<li>The Service Excellence Committee receive this report for information.</li>") in html
    # financial impact: Markdown with figures
    assert "There is no financial impact. The report counts 463,000 requests." in html
    # decision history with its link
    assert '<a class="url" href="https://secure.toronto.ca/council/agenda-item.do?item=2020.MM24.11">' in html
    # contact and signature
    assert "Ada Lovelace, Director, 311 Operations" in html
    assert '<a href="mailto:ada.lovelace@toronto.ca">ada.lovelace@toronto.ca</a>' in html
    assert '<span class="signature-name">Grace Hopper</span><br>\nExecutive Director, Customer Experience' in html
    # attachments: each a link to its file, with the file name
    assert ('<li><a href="appendix-a-key-metrics-2024.html">Appendix A - 311 Toronto Key Metrics Report 2024</a> '
            '<span class="nowrap">(file <code>appendix-a-key-metrics-2024.html</code>)</span></li>') in html
    assert ('<a href="appendix-b-key-metrics-2024-text-only.html">Appendix B - 311 Toronto Key Metrics Report '
            '2024 (text only)</a>') in html
    pdf_html = render(load_metrics(), meta(ndir), "pdf")
    assert '<a href="appendix-a-key-metrics-2024.pdf">' in pdf_html  # the PDF links the PDFs
    # Table 1 and Table 2 of the form
    assert "Table 1: Top 5 Service Requests, 2024" in html
    assert "Table 2: Call Answer &amp; Handling Times, 2024" in html
    assert a11y.html_structure_problems(html) == []


def test_the_appendices_name_the_report_they_are_attached_to(ndir):
    complete(ndir)
    for kind in ("appendix_a", "appendix_b"):
        html = render(load_metrics(), meta(ndir), "html", kind)
        assert ("<div><dt>Attached to</dt><dd>311 Toronto Customer Experience Annual Report 2024, report to "
                "the Service Excellence Committee dated May 1, 2025</dd></div>") in html
        assert '(<a href="cx-annual-report-2024.html">cx-annual-report-2024.html</a>)' in html
    assert "<title>Appendix A - 311 Toronto Key Metrics Report 2024</title>" in render(
        load_metrics(), meta(ndir), "html", "appendix_a")


# --------------------------------------------------------------------------- draft and final


def test_missing_items_list_the_files_and_keys_to_write(ndir):
    items = narrative.missing_items(ndir)
    assert [(i["path"], i["what"]) for i in items] == [
        (ndir / "report.yaml", "file missing: date, to, from, wards, purpose, recommendations, financial_impact, "
                               "cfo_review, decision_history, contact, signature"),
        (ndir / "highlights.md", "file missing: Highlights of the year"),
        (ndir / "partnerships.md", "file missing: Partnerships and Enhancements"),
        (ndir / "ongoing_improvements.md", "file missing: Ongoing Improvements"),
    ]
    complete(ndir)
    assert narrative.missing_items(ndir) == []
    (ndir / "report.yaml").write_text(COMPLETE_YAML.replace("date: 2025-05-01\n", "date:\n"), encoding="utf-8")
    (ndir / "highlights.md").unlink()
    assert [i["what"] for i in narrative.missing_items(ndir)] == [
        "keys missing or empty: date", "file missing: Highlights of the year"]


@pytest.mark.parametrize("kind", KINDS)
def test_with_any_default_every_document_is_a_draft(ndir, kind):
    html = render(load_metrics(), meta(ndir, demo=True), "pdf", kind)
    title = a11y.html_title(html)
    assert title.startswith("DRAFT – ") and title.endswith("(synthetic demo data)")
    # page 1 says why it is a draft: every part that uses default text, in document order
    parts = ("Date, To, From, Wards, the Summary&#39;s purpose, Highlights of the year, Recommendations, "
             "Financial Impact, the Chief Financial Officer&#39;s review, Decision History, Partnerships "
             "and Enhancements, Ongoing Improvements, Contact and Signature still use default text.")
    if kind == "annual":
        assert f'<p class="draft-stamp"><strong>Draft:</strong> {parts}</p>' in html
    else:
        assert (f'<p class="draft-stamp"><strong>Draft:</strong> the report it is attached to is a draft '
                f'({parts[:-1]}).</p>') in html
    assert re.search(r'<body class="[^"]*\bdraft\b', html)  # the running head (pdf.css string-set)
    complete(ndir)
    final = render(load_metrics(), meta(ndir, demo=True), "pdf", kind)
    assert "DRAFT" not in final.split("</style>")[1]
    assert not re.search(r'<body class="[^"]*\bdraft\b', final)


def test_the_running_head_says_draft():
    from pipeline.report.styles import stylesheet

    css = stylesheet("pdf")
    assert 'content: string(draft-flag) string(report-title);' in css
    assert 'body.draft { string-set: draft-flag "DRAFT – "; }' in css


@pytest.mark.parametrize("output", ["html", "pdf"])
@pytest.mark.parametrize("kind", KINDS)
def test_no_authoring_text_in_any_document(kind, output, tmp_path):
    """The default narrative is neutral draft text: no note to the analyst, no path to write."""
    for narrative_dir in (None, tmp_path / "raw" / "narrative" / "2024"):
        html = render(load_metrics(), meta(narrative_dir), output, kind)
        for text in AUTHORING_TEXT:
            assert text not in html, (kind, output, text)


def test_the_shipped_defaults_hold_no_instructions():
    checked = []
    for path in sorted(narrative.DEFAULTS_DIR.glob("*.md")):
        if path.name == "README.md":
            continue  # never rendered
        text = path.read_text(encoding="utf-8")
        assert text.strip(), path.name
        for word in ("analyst", "replace", "narrative/", "provided"):
            assert word not in text, (path.name, word)
        checked.append(path.name)
    # one default per narrative section, each checked
    assert checked == sorted(f"{s.key}.md" for s in narrative.NARRATIVE_SECTIONS) == [
        "highlights.md", "ongoing_improvements.md", "partnerships.md"]


def test_final_refuses_a_draft_before_any_work(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "out"
    (raw / "2024").mkdir(parents=True)
    (raw / "2024" / "service_requests_2024.csv").write_text("sr_id,created_at\n", encoding="utf-8")
    (raw / "narrative" / "2024").mkdir(parents=True)
    (raw / "narrative" / "2024" / "highlights.md").write_text("Our year.\n", encoding="utf-8")
    code = main(["report", "--year", "2024", "--raw", str(raw), "--output", str(out), "--final"])
    err = capsys.readouterr().err
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: --final: the 2024 report would be a draft, so nothing was rendered. Missing: ")
    assert f"{raw}/narrative/2024/report.yaml (file missing: date, to, from" in line
    assert f"{raw}/narrative/2024/partnerships.md (file missing: Partnerships and Enhancements)" in line
    assert f"{raw}/narrative/2024/ongoing_improvements.md" in line
    assert "highlights.md" not in line  # it exists
    assert not out.exists()  # nothing loaded, nothing published


def test_a_draft_run_lists_what_is_missing(tmp_path, capsys):
    from pipeline.cli import Console

    raw = tmp_path / "raw"
    check_narrative(Console(), raw, 2024, final=False)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("draft: the 2024 documents are marked DRAFT; their text falls back to the neutral "
                      "default for:")
    assert err[1].startswith(f"  {raw}/narrative/2024/report.yaml (file missing: date, to")
    assert err[2] == f"  {raw}/narrative/2024/highlights.md (file missing: Highlights of the year)"
    assert err[-1] == "  create these (defaults to start from: report_templates/narrative/); --final refuses a draft"
    assert len(err) == 6
    (raw / "narrative" / "2024").mkdir(parents=True)
    complete(raw / "narrative" / "2024")
    check_narrative(Console(), raw, 2024, final=True)  # nothing missing: no error, nothing said
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- glitches (HTML)


def test_the_type_mix_sentence_reads_as_one_sentence():
    html = render(load_metrics(), meta(None))
    assert ("General inquiries made up 62% (799,800), service requests made up 32% (412,800) and "
            "status updates made up 6% (77,400) of all interactions.") in html
    assert "%. of all interactions" not in html and "Service requests made up" not in html


def test_channel_names_are_lower_case_mid_sentence():
    specs = {s.id: s for s in key_metric_specs(load_metrics(), with_svg=False)}
    # the fixture: mobile app +21.96% grew the most, phone −3.12% fell the most
    # and the changes in words, not signed numbers (issue 27)
    assert specs["channel-change"].summary == ("Compared with 2023, mobile app grew the most, by 22%, and "
                                               "phone fell the most, by 3%.")


def test_the_two_service_request_counts_are_explained():
    html = render(load_metrics(), meta(None))
    assert ("the 412,800 service request interactions are contacts with 311 that created or concerned a "
            "service request, while the 463,000 service requests are the requests created in 2024 (not "
            "cancelled) on every channel, including requests created without an interaction with 311.") in html


def test_the_na_footnote_only_under_a_table_with_an_na():
    metrics = load_metrics()
    html = {k: render(metrics, meta(None), "html", k) for k in KINDS}
    note = "n/a: no data for that channel in 2023."
    # the fixture's social media channel has no 2023 figure: the appendices' two channel tables
    assert html["appendix_a"].count(note) == html["appendix_b"].count(note) == 2
    assert note not in html["annual"]  # the annual report lists the channels in words
    assert "Social media: 12,900 (1%); no 2023 figure to compare with" in html["annual"]
    metrics["interactions"]["channel_change_vs_prior_year"]["social"] = 0.05
    for kind in KINDS:
        page = render(metrics, meta(None), "html", kind)
        assert "n/a: no data for that channel" not in page, kind
        assert "no 2023 figure to compare with" not in page


@pytest.mark.parametrize("kind", KINDS)
def test_every_table_is_numbered_in_order(kind):
    html = render(load_metrics(), meta(None), "html", kind)
    captions = re.findall(r"<caption[^>]*>([^<]*)</caption>", html)
    assert captions
    assert [int(re.match(r"Table (\d+): ", c).group(1)) for c in captions] == list(range(1, len(captions) + 1))


def test_appendix_a_links_appendix_b_by_its_title_and_appendix_b_has_one_colon():
    a = render(load_metrics(), meta(None), "html", "appendix_a")
    assert ('A text-only edition with the same tables is available: '
            '<a href="appendix-b-key-metrics-2024-text-only.html">Appendix B - 311 Toronto Key Metrics Report '
            '2024 (text only)</a> (file <code>appendix-b-key-metrics-2024-text-only.html</code>)') in a
    assert "(Appendix B, <code>" not in a
    b = render(load_metrics(), meta(None), "html", "appendix_b")
    edition = re.search(r"<dt>Edition</dt><dd>([^<]+)</dd>", b).group(1)
    assert ":" not in edition and edition.startswith("text only, with every chart of Appendix A")


def test_dates_and_ward_names_do_not_wrap():
    html = render(load_metrics(), meta(None), "pdf")
    assert '<th scope="row" class="date">Tuesday, July 16, 2024</th>' in html
    assert '<td class="name">Humber River-Black Creek</td>' in html or "Humber River-Black Creek" not in html
    wards = html[html.index('<table id="table-wards">'):]
    wards = wards[:wards.index("</table>")]
    groups = re.findall(r"<tbody>(.*?)</tbody>", wards, flags=re.S)
    assert [g.count("<tr>") for g in groups] == [5, 5, 5, 5, 5, 1]  # 25 wards and Unknown, kept in fives
    from pipeline.report.styles import stylesheet

    css = stylesheet("pdf")
    assert ".nowrap, .date, td.name { white-space: nowrap; }" in css
    assert ".table-wrap.row-groups tr + tr { break-before: avoid; }" in css
    assert ".chart-and-table { break-inside: avoid; }" in css


def test_no_prior_year_reads_as_words_not_na():
    metrics = load_metrics()
    srs = metrics["service_requests"]
    srs["prior_year_total"] = None
    srs["change_vs_prior_year"] = None
    metrics["interactions"]["channel_change_vs_prior_year"] = {k: None for k in metrics["interactions"]["by_channel"]}
    html = render(metrics, meta(None))
    assert "compared with n/a" not in html and "change of n/a" not in html and "n/a vs 2023" not in html
    assert "There are no 2023 service requests in the extracts to compare with." in html
    assert "no 2023 figures to compare with" in html  # the summary's key figure
    assert "There are no 2023 interactions in the extracts to compare the channels with." in html
    assert "Change in service requests: there are no 2023 service requests to compare with." in html


def test_empty_sections_are_left_out_and_said_once():
    metrics = load_metrics()
    metrics["knowledge_base"] = None
    metrics["general_inquiries"] = None
    specs = key_metric_specs(metrics, with_svg=False)
    said = ("The extracts for 2024 hold no general inquiries with a topic and no knowledge-base page "
            "views: general-inquiry topics and knowledge-base article views are not available.")
    for kind in KINDS:
        html = render_html(metrics, meta(None), "html", kind, specs)
        assert "Top 0" not in html
        assert html.count(said) == 1, kind
        assert "not available" not in html.replace(said, ""), kind
    annual = render_html(metrics, meta(None), "html", "annual", specs)
    assert 'id="kb-articles"' not in annual and 'id="top-topics"' not in annual
    appendix = render_html(metrics, meta(None), "html", "appendix_a", specs)
    assert 'id="knowledge-base-metrics"' not in appendix and 'href="#knowledge-base-metrics"' not in appendix
    assert 'id="inquiry-surges"' not in appendix and "left-out" not in appendix


# --------------------------------------------------------------------------- the form (issue 27)


def test_the_summary_has_its_purpose_and_financial_impact_the_cfo_review(ndir):
    html = render(load_metrics(), meta(complete(ndir)))
    summary = html[html.index('<section id="summary"'):html.index('<section id="recommendations"')]
    # the purpose sentence first, then the year's counts; the placeholders filled in
    assert summary.index('<p class="purpose">This report responds to MM24.11 and reports on 311 Toronto in '
                         '2024.</p>') < summary.index('<p class="lead">')
    impact = html[html.index('<section id="financial-impact"'):html.index('<section id="decision-history"')]
    assert ('<p class="cfo-review">The Chief Financial Officer and Treasurer has reviewed this report.</p>'
            in impact)
    assert ('<p class="decision">At its meeting on September 30, October 1 and 2, 2020, City Council adopted '
            'MM24.11.<br>') in html


def test_the_defaults_carry_the_citys_sentences():
    html = render(load_metrics(), meta(None))
    assert ("The Chief Financial Officer and Treasurer has reviewed this report and agrees with the financial "
            "implications as identified in the Financial Impact section.") in html
    assert ("This report responds to City Council&#39;s request (Member Motion MM24.11) for an annual report "
            "from 311 Toronto, and presents its customer experience results for 2024.") in html
    assert "At its meeting on September 30, October 1 and 2, 2020, City Council adopted Member Motion" in html
    assert "At its meeting on May 10, 11 and 12, 2023, City Council considered the Customer Experience" in html


def test_a_draft_names_what_still_uses_default_text(ndir):
    """The issue's example: a narrative without partnerships.md, contact and signature."""
    complete(ndir)
    (ndir / "partnerships.md").unlink()
    text = COMPLETE_YAML.split("contact:")[0]
    (ndir / "report.yaml").write_text(text, encoding="utf-8")
    html = render(load_metrics(), meta(ndir))
    assert ('<p class="draft-stamp"><strong>Draft:</strong> Partnerships and Enhancements, Contact and '
            'Signature still use default text.</p>') in html
    # it comes first in the header block, before the title
    assert html.index('class="draft-stamp"') < html.index('<h1 id="report-title">')
    (ndir / "report.yaml").write_text(COMPLETE_YAML, encoding="utf-8")
    assert ("<strong>Draft:</strong> Partnerships and Enhancements still uses default text."
            in render(load_metrics(), meta(ndir)))
    assert narrative.draft_sentence([]) == ""


def test_contact_and_signature_name_a_person_and_the_defaults_are_marked_blanks(ndir):
    html = render(load_metrics(), meta(None))
    contact = html[html.index('<section id="contact"'):html.index('<section id="signature"')]
    # the default: a person's name, title, telephone and e-mail, each a blank in brackets
    assert ('<p class="contact">[Name], [Title], Customer Experience Division<br>\nTelephone: '
            '<span class="nowrap">[Telephone]</span><br>\nE-mail: [E-mail]</p>') in contact
    assert "mailto:" not in contact  # a blank is no address
    signature = html[html.index('<section id="signature"'):html.index('<section id="attachments"')]
    assert '<span class="signature-name">[Name]</span><br>\nExecutive Director, Customer Experience' in signature
    # the analyst's own file may not pass a blank for an address
    (ndir / "report.yaml").write_text("contact:\n  name: Ada\n  email: '[E-mail]'\n", encoding="utf-8")
    with pytest.raises(FrontMatterError, match=r"report.yaml:3: 'email' must be an e-mail address, not '\[E-mail\]'"):
        front_matter.read_front_matter(ndir)
