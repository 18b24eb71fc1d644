"""The three documents' HTML (pipeline/report/annual.py, context.py, chart_specs.py) without
laying out a PDF: figures, missing data, escaping. The PDFs and the browser checks are in
tests/integration/test_render.py."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pipeline.profile import load_profile
from pipeline.report.annual import render_html
from pipeline.report.chart_specs import key_metric_specs
from pipeline.report.context import build_context, service_sentences
from pipeline.report.formatting import fmt_decimal, fmt_hms, fmt_pct, fmt_thousands
from pipeline.report.sources import not_held_sentence
from tests.support import a11y
from tests.support.key_metrics import META, load_metrics

KINDS = ("annual", "appendix_a", "appendix_b")


def test_no_demo_notice_for_real_data():
    specs = key_metric_specs(load_metrics(), with_svg=False)  # the text only
    html = render_html(load_metrics(), {**META, "demo": False}, specs=specs)
    assert "Synthetic demo data" not in html
    assert "synthetic" not in a11y.html_title(html).lower()


def test_null_sections_are_left_out_and_said_once():
    metrics = load_metrics()
    metrics["knowledge_base"] = None
    metrics["phone"] = None
    metrics["email"] = None
    metrics["service_requests"]["median_days_to_close"] = None
    metrics["service_requests"]["on_time_rate"] = None
    html = render_html(metrics, META, specs=key_metric_specs(metrics, with_svg=False))  # the text only
    # the annual report's Time to close (a sentence in Comments → Service Requests): the extract
    # has closing times, so a figure that is null is said where it stands
    assert "Median days to close: not available in this extract." in html
    assert "Closed on time (within the service standard): not available in this extract." in html
    # what the extracts do not hold: said once, and its sections left out (heading, contents)
    said = ("The extracts for 2024 hold no phone calls, no e-mails and no knowledge-base page views: "
            "phone service levels, e-mail acknowledgement and knowledge-base article views are not available.")
    assert html.count(said) == 1
    assert 'id="kb-articles"' not in html and 'id="phone"' not in html and 'href="#phone"' not in html
    assert "Phone service levels: not available" not in html
    assert a11y.html_structure_problems(html) == []


def test_everything_null_still_renders():
    metrics = {"year": 2024, "interactions": None, "general_inquiries": None, "phone": None,
               "email": None, "service_requests": None, "knowledge_base": None,
               "data_quality": None, "settings": load_profile().settings()}
    html = render_html(metrics, {"demo": False, "generated_from": [],
                                 "cancelled_note": None, "not_available": []})
    assert html.count("The extracts for 2024 hold no contact-centre interactions, ") == 1
    assert ">0<" not in html and ">0%<" not in html
    assert a11y.html_structure_problems(html) == []


@pytest.mark.parametrize(("period", "parts", "end", "sentence"), [
    ("2024", [], "year end", None),
    ("2024", ["email"], "year end",
     "The extracts for 2024 hold no e-mails: e-mail acknowledgement is not available."),
    # a BIA report's month without closing times
    ("June 2024", ["closing_times"], "month end",
     "The extracts for June 2024 hold no closing times for service requests: time to close, the on-time "
     "rate and requests still open at month end are not available."),
    # service requests only, without closing times, knowledge-base views held
    ("2019", ["interactions", "general_inquiries", "phone", "email", "transfers", "languages", "closing_times"],
     "year end",
     "The extracts for 2019 hold service requests and knowledge-base page views only, without closing "
     "times: the contact centre’s figures (interactions, general inquiries, phone and e-mail service "
     "levels, transfers and languages of service), time to close, the on-time rate and requests still "
     "open at year end are not available."),
])
def test_the_not_held_sentence(period, parts, end, sentence):
    assert not_held_sentence(period, parts, end) == sentence


def test_markup_in_data_is_escaped():
    metrics = load_metrics()
    evil = "<script>alert(1)</script>"
    metrics["service_requests"]["top_types"][0]["sr_type"] = evil
    metrics["service_requests"]["by_ward"][0]["ward_name"] = evil
    meta = copy.deepcopy(META)
    meta["cancelled_note"] = evil
    meta["generated_from"] = [evil]
    html = render_html(metrics, meta)
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


# --------------------------------------------------------------------------- figures vs key_metrics


def test_every_table_figure_comes_from_key_metrics():
    """Every cell of the appendices' tables is a value of key_metrics formatted by a filter."""
    metrics = load_metrics()
    specs = key_metric_specs(metrics, with_svg=False)
    by_id = {s.id: s for s in specs}
    top = metrics["service_requests"]["top_types"]
    assert by_id["top-types"].rows[0] == ["1", top[0]["sr_type"], fmt_thousands(top[0]["count"]),
                                          fmt_pct(top[0]["count"] / metrics["service_requests"]["total"])]
    months = metrics["phone"]["monthly"]
    assert [r[1] for r in by_id["service-level"].rows] == [fmt_pct(m["service_level"]) for m in months]
    assert [r[1] for r in by_id["asa-monthly"].rows] == [fmt_hms(m["asa_seconds"]) for m in months]
    wards = {w["ward_name"]: w for w in metrics["service_requests"]["by_ward"]}
    for row in by_id["ward-map"].rows:
        w = wards[row[1]]
        assert row[2:] == [fmt_thousands(w["count"]), fmt_decimal(w["per_1000_residents"], 1)]
    kb = metrics["knowledge_base"]["top_articles"]
    assert [r[1:] for r in by_id["kb-articles"].rows] == [[a["article_title"], fmt_thousands(a["views"])] for a in kb]


def test_shares_and_target_met_are_the_marts_never_computed_again():
    """The documents show the marts' shares and target_met as pipeline/metrics.py passes them
    through: changed here, they change in the documents, though the counts beside them do not."""
    metrics = load_metrics()
    metrics["service_requests"]["top_types"][0]["share"] = 0.5  # the counts give 22,647 / 463,000 = 5%
    metrics["interactions"]["share_by_type"]["general_inquiry"] = 0.25  # 799,800 / 1,290,000 = 62%
    metrics["interactions"]["share_by_channel"]["web"] = 0.75  # 103,200 / 1,290,000 = 8%
    metrics["languages"]["top_other_than_english"][0]["share"] = 0.123  # 14,210 / 1,271,300 = 1.1%
    metrics["phone"]["monthly"][6]["target_met"] = True  # July: 74.1% against the 80% target
    metrics["phone"]["target_met"] = False  # the year: 82% against 80%
    specs = key_metric_specs(metrics, with_svg=False)
    by_id = {s.id: s for s in specs}
    assert by_id["top-types"].rows[0][3] == "50%"
    assert [r[2] for r in by_id["type-mix"].rows if r[1] == "799,800"] == ["25%"]
    assert [r[2] for r in by_id["channels"].rows if r[1] == "103,200"] == ["75%"]
    assert by_id["languages"].rows[0][3] == "12.3%"
    assert [r[2] for r in by_id["service-level"].rows] == ["Yes"] * 7 + ["No"] + ["Yes"] * 4  # August: 77.9%
    assert by_id["service-level"].summary.startswith("The phone service level met the 80% target in 11 of 12 months")
    html = render_html(metrics, META, "html", "annual", specs)
    assert "below target: 80%" in html and "the target was not met." in html
    assert '<td class="num">22,647</td><td class="num">50%</td>' in _table(html, "table-1")
    assert "<th scope=\"row\">July 2024</th><td class=\"num\">74%</td><td>Yes</td>" in _table(html, "table-monthly")


# --------------------------------------------------------------------------- injection


def test_markup_in_data_is_text_in_all_three_documents():
    metrics = load_metrics()
    evil = "<script>alert(1)</script>"
    metrics["service_requests"]["top_types"][0]["sr_type"] = evil
    metrics["service_requests"]["by_division"][0]["division"] = evil
    metrics["knowledge_base"]["top_articles"][0]["article_title"] = evil
    specs = key_metric_specs(metrics)
    for kind in KINDS:
        for output in ("html", "pdf"):
            html = render_html(metrics, META, output, kind, specs)
            assert "<script" not in html, (kind, output)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, (kind, output)


# --------------------------------------------------------------------------- transfers and languages


def _table(html: str, table_id: str) -> str:
    start = html.index(f'<table id="{table_id}">')
    return html[start:html.index("</table>", start)]


def test_transfers_and_languages_in_both_appendices_with_the_same_tables():
    metrics = load_metrics()
    specs = key_metric_specs(metrics, with_svg=False)
    a = render_html(metrics, META, "html", "appendix_a", specs)
    b = render_html(metrics, META, "html", "appendix_b", specs)
    for table_id in ("table-transfers-monthly", "table-languages"):
        assert _table(a, table_id) == _table(b, table_id)
    transfers = _table(a, "table-transfers-monthly")
    # July: 0.9741 → 97.4% of 93,870 with a recorded transfer status
    assert '<th scope="row">July 2024</th><td class="num">97.4%</td><td class="num">93,870</td>' in transfers
    languages = _table(a, "table-languages")
    # Spanish 6,480 of 1,271,300 recorded = 0.51% → 0.5%
    assert ('<th scope="row" class="num">2</th><td>Spanish</td><td class="num">6,480</td>'
            '<td class="num">0.5%</td>') in languages
    for html in (a, b):
        assert '<h2 id="transfer-language-metrics-title">Transfers and languages</h2>' in html


def test_service_sentences_from_the_figures():
    metrics = load_metrics()
    # 27 languages; other than English 0.0462 → 4.6%; zh first. Transfers (1,002,400 − 17,091) /
    # 1,002,400 = 0.98295 → 98.3%, 2023 0.9712 → 97.1%; 12,900 answered without a recorded status
    assert service_sentences(metrics) == {
        "languages": "In 2024, 311 served residents in 27 languages; 4.6% of interactions with a "
                     "recorded language were in a language other than English, most often Chinese.",
        "transfers": "In 2024, 98.3% of answered phone calls and live chats with a recorded transfer "
                     "status were handled without a transfer, up from 97.1% in 2023.",
    }
    t = metrics["transfers"]
    t.update(recorded=t["answered"], prior_year_handled_without_transfer=0.98304)  # 98.3% as well
    metrics["languages"].update(distinct=1, top_other_than_english=[], other_than_english_share=0.0)
    assert service_sentences(metrics) == {
        "languages": "In 2024, 311 served residents in 1 language; 0.0% of interactions with a "
                     "recorded language were in a language other than English.",
        "transfers": "In 2024, 98.3% of answered phone calls and live chats were handled without a "
                     "transfer, the same as in 2023.",
    }
    t["prior_year_handled_without_transfer"] = 0.99
    assert service_sentences(metrics)["transfers"].endswith("without a transfer, down from 99.0% in 2023.")
    t["prior_year_handled_without_transfer"] = None
    assert service_sentences(metrics)["transfers"].endswith("without a transfer.")
    metrics["transfers"] = metrics["languages"] = None
    assert service_sentences(metrics) == {"languages": None, "transfers": None}


def test_the_context_carries_the_sentences_and_says_once_what_is_not_held():
    # the text only: the charts (drawn in the other tests) are not looked at here
    metrics = load_metrics()
    context = build_context(metrics, META, "html", specs=key_metric_specs(metrics, with_svg=False))
    assert context["service_sentences"] == service_sentences(metrics)
    assert context["not_held"].sentence is None and context["meta"]["not_available"] == []
    metrics["transfers"] = metrics["languages"] = None  # interactions without these columns
    specs = key_metric_specs(metrics, with_svg=False)
    context = build_context(metrics, META, "html", specs=specs)
    assert context["service_sentences"] == {"languages": None, "transfers": None}
    said = ("The extracts for 2024 hold no transfer status for answered calls or chats and no language "
            "of service for interactions: the share handled without transfer and languages of service "
            "are not available.")
    assert context["not_held"].sentence == said
    for kind in ("annual", "appendix_a"):
        html = render_html(metrics, META, "html", kind, specs)
        assert html.count(said) == 1 and "not available" not in html.replace(said, ""), kind
        assert a11y.html_structure_problems(html) == []
    # the appendix names no chart of what is not held, and leaves out their group
    appendix = render_html(metrics, META, "html", "appendix_a", specs)
    assert 'id="transfer-language-metrics"' not in appendix and "left-out" not in appendix
    # no interactions at all: the sentence says service requests (and page views) only
    metrics["interactions"] = metrics["general_inquiries"] = metrics["phone"] = metrics["email"] = None
    context = build_context(metrics, META, "html", specs=key_metric_specs(metrics, with_svg=False))
    assert context["not_held"].sentence == (
        "The extracts for 2024 hold service requests and knowledge-base page views only: the contact "
        "centre’s figures (interactions, general inquiries, phone and e-mail service levels, transfers "
        "and languages of service) are not available.")


# --------------------------------------------------------------------------- sources: encodings and load notes


def _warehouse(path: Path) -> Path:
    """A warehouse with the marts report_sources reads, rows made by hand."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.mart_data_quality (source_file VARCHAR, extract_year INTEGER, "
                "encoding VARCHAR, rows_rejected BIGINT, rejects_by_reason VARCHAR, load_notes VARCHAR, "
                "delivery_rank INTEGER, placed_by_modification_time BOOLEAN)")
    # delivery order: the 2022, Open Data and 2023 files first loaded together (placed by their
    # modification times), then the 2024 Parquet file and the 2024 CSV file, one run each
    con.executemany("INSERT INTO marts.mart_data_quality VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        ("2022/interactions_2022.csv", 2022, "utf-8", 0, None, "1 column(s) not in the contract, ignored: 'x'",
         1, True),
        ("2023/interactions_2023.csv", 2023, "cp1252", 0, None, None, 3, True),
        ("2024/interactions_2024.csv", 2024, "utf-8-sig", 1, "unknown channel: 1",
         "1 column(s) ignored because an earlier column has the same name: 'Channel'; "
         "1 column(s) not in the contract, ignored: 'caller_name'", 5, False),
        ("2024/service_requests_2024.parquet", 2024, None, 0, None,
         "1 column(s) not in the contract, ignored: 'tags'", 4, False),
        ("open_data/sr.csv", None, "utf-8", 0, None, None, 2, True),
    ])
    # what chose the version that counts of the SRs delivered twice, per file holding it
    con.execute("CREATE TABLE marts.mart_sr_versions AS SELECT * FROM (VALUES "
                "('open_data/sr.csv', 'modification time', 2), "
                "('2024/service_requests_2024.parquet', 'modification time', 1), "
                "('2024/service_requests_2024.parquet', 'updated_at', 4), "
                "('2021/service_requests_2021.csv', 'modification time', 8)) "
                "AS v(source_file, decided_by, service_requests)")
    # the files each report year reads, as mart_report_files lists them (its rule is its dbt unit test)
    con.execute("CREATE TABLE marts.mart_report_files AS SELECT y.report_year, q.* FROM marts.mart_data_quality q "
                "JOIN (VALUES (2024, '2023/interactions_2023.csv'), (2024, '2024/interactions_2024.csv'), "
                "(2024, '2024/service_requests_2024.parquet'), (2024, 'open_data/sr.csv'), "
                "(2023, '2022/interactions_2022.csv'), (2023, '2023/interactions_2023.csv'), "
                "(2023, 'open_data/sr.csv')) AS y(report_year, source_file) USING (source_file)")
    con.execute("CREATE TABLE marts.mart_service_standards AS SELECT false AS illustrative")
    con.close()
    return path


def test_report_meta_says_how_each_file_was_read_its_notes_and_the_files_not_read(tmp_path):
    from pipeline.report.sources import report_meta

    raw = tmp_path / "raw"
    for rel in ("2024/calls_2024.csv", "2024/interactions_2024.zip", "README.md", "narrative/2024/x.md"):
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text("x", encoding="utf-8")
    meta = report_meta(raw, _warehouse(tmp_path / "warehouse.duckdb"), 2024)
    # the 2024 report reads 2024, 2023 and Open Data (extract_year null), not 2022
    assert meta["generated_from"] == ["2023/interactions_2023.csv", "2024/interactions_2024.csv",
                                      "2024/service_requests_2024.parquet", "open_data/sr.csv"]
    assert meta["sources"] == [
        {"file": "2023/interactions_2023.csv", "read_as": "Windows-1252", "notes": None},
        {"file": "2024/interactions_2024.csv", "read_as": "UTF-8 with a byte-order mark",
         "notes": "1 column(s) ignored because an earlier column has the same name: 'Channel'; "
                  "1 column(s) not in the contract, ignored: 'caller_name'"},
        {"file": "2024/service_requests_2024.parquet", "read_as": None,
         "notes": "1 column(s) not in the contract, ignored: 'tags'"},
        {"file": "open_data/sr.csv", "read_as": "UTF-8", "notes": None},
    ]
    # README.md and narrative/ are not listed (contract.non_extract_paths)
    assert meta["ignored"] == [
        {"file": "2024/calls_2024.csv", "why": "its name or type is not an extract's: a year folder "
         "holds interactions*, service_requests* and kb_views* files (.csv, .csv.gz or .parquet)"},
        {"file": "2024/interactions_2024.zip", "why": "a zip archive in a year folder is not read "
         "(only open_data/ reads .zip files); unzip it into the year folder"},
    ]
    assert meta["rejects"] == [{"file": "2024/interactions_2024.csv", "reasons": "unknown channel: 1"}]
    # the 2024 report's files in delivery order (ranks 2, 3, 4, 5; the 2022 file, rank 1, is
    # not one of them), and the SRs of these files the modification times decided: 2 in the
    # Open Data file + 1 in the Parquet file (its 4 decided by updated_at, and the 2021 file's 8,
    # not one of the report's files, are not counted)
    assert meta["delivery_order"] == [
        {"file": "open_data/sr.csv", "by_modification_time": True},
        {"file": "2023/interactions_2023.csv", "by_modification_time": True},
        {"file": "2024/service_requests_2024.parquet", "by_modification_time": False},
        {"file": "2024/interactions_2024.csv", "by_modification_time": False},
    ]
    assert meta["decided_by_modification_time"] == 3


def _between(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def test_data_notes_say_how_each_file_was_read_and_what_was_not_read():
    metrics = load_metrics()
    meta = {**META, "demo": False,
            "generated_from": ["2024/interactions_2024.csv", "2024/service_requests_2024.parquet"],
            "sources": [
                {"file": "2024/interactions_2024.csv", "read_as": "UTF-8",
                 "notes": "1 column(s) not in the contract, ignored: 'caller_name'"},
                {"file": "2024/service_requests_2024.parquet", "read_as": None, "notes": None}],
            "ignored": [{"file": "2024/calls.csv", "why": "its name or type is not an extract's"}]}
    specs = key_metric_specs(metrics, with_svg=False)
    html = render_html(metrics, meta, "html", "annual", specs)
    assert _between(html, "<h4>Sources</h4>", "<h4>Definitions</h4>").split("\n")[2:] == [
        '<ul class="sources">',
        # on screen a file name may break after '/' and '_' and before '.', never inside a word
        '<li><code class="file">2024/<wbr>interactions_<wbr>2024<wbr>.csv</code>: read as UTF-8</li>',
        '<li><code class="file">2024/<wbr>service_<wbr>requests_<wbr>2024<wbr>.parquet</code></li>',  # no encoding
        "</ul>",
        "<p>Columns of these files that were not read (by name; their values were never looked at):</p>",
        '<ul class="load-notes">',
        '<li><code class="file">2024/<wbr>interactions_<wbr>2024<wbr>.csv</code>: 1 column(s) not in the '
        "contract, ignored: &#39;caller_name&#39;</li>",
        "</ul>",
        "<p>Files in the raw folder that are not input files, and were not read:</p>",
        '<ul class="ignored-files">',
        '<li><code class="file">2024/<wbr>calls<wbr>.csv</code>: its name or type is not an extract&#39;s</li>',
        "</ul>",
        "",
    ]
    assert a11y.html_structure_problems(html) == []
    # the PDF's HTML says the same (its columns are wide enough: no break opportunities)
    assert _between(render_html(metrics, meta, "pdf", "annual", specs), '<ul class="sources">',
                    "<h4>Definitions</h4>") == _between(html, '<ul class="sources">',
                                                        "<h4>Definitions</h4>").replace("<wbr>", "")
    # the appendices have no data notes of their own: nothing there to disagree
    for kind in ("appendix_a", "appendix_b"):
        appendix = render_html(metrics, meta, "html", kind, specs)
        assert "read as" not in appendix and "interactions_2024.csv" not in appendix, kind


def test_data_notes_without_encodings_or_notes_list_the_files_only():
    # a caller that gives only the names (generated_from): no "read as", no note lists
    specs = key_metric_specs(load_metrics(), with_svg=False)  # the data notes only
    html = render_html(load_metrics(), {**META, "demo": False}, specs=specs)
    assert _between(html, '<ul class="sources">', "<h4>Definitions</h4>").split("\n") == [
        '<ul class="sources">',
        '<li><code class="file">2024/<wbr>interactions_<wbr>2024<wbr>.parquet</code></li>',
        '<li><code class="file">2024/<wbr>service_<wbr>requests_<wbr>2024<wbr>.parquet</code></li>',
        "</ul>",
        "",
    ]
    # markup in a note or a path is text
    evil = "<script>alert(1)</script>"
    meta = {**META, "sources": [{"file": evil, "read_as": "UTF-8", "notes": evil}],
            "ignored": [{"file": evil, "why": evil}]}
    html = render_html(load_metrics(), meta, specs=specs)
    # the file twice (Sources and the notes list), the note, the ignored path and its reason
    assert "<script" not in html
    assert html.replace("<wbr>", "").count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5
