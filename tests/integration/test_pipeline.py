"""End to end: hand-made extracts → real loader → real DuckDB → real dbt build → key_metrics.json,
HTML and PDF. Every expected figure is worked out by hand from the rows in
tests/integration/extracts.py."""

from __future__ import annotations

import json
import platform
import re
import subprocess
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.support.pdf_text import pdf_text


@pytest.fixture(scope="module")
def built(pipeline_build: tuple[Path, Path]) -> tuple[Path, Path]:
    """(raw, output) of `report --year 2024` on the hand-made extracts in tests/integration/extracts.py."""
    return pipeline_build


@pytest.fixture(scope="module")
def metrics(built: tuple[Path, Path]) -> dict:
    return json.loads((built[1] / "2024" / "key_metrics.json").read_text(encoding="utf-8"))


def test_report_builds_only_what_its_documents_read(built: tuple[Path, Path]) -> None:
    """`report` runs dbt on the annual report's exposure: not the BIA reports' marts."""
    import duckdb

    results = json.loads((built[1] / "production_run_results.json").read_text(encoding="utf-8"))
    models = {r["unique_id"].split(".")[-1] for r in results["results"] if r["unique_id"].startswith("model.")}
    assert {"mart_sr_yearly", "mart_interaction_mix", "mart_city_settings", "int_interactions"} <= models
    assert not [m for m in models if "bia" in m]
    with duckdb.connect(str(built[1] / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT scope FROM main.cx311_build").fetchall() == [("cx_annual_report",)]


def test_outputs_are_written_under_stable_names(built: tuple[Path, Path]) -> None:
    out = built[1] / "2024"
    for name in (
        "cx-annual-report-2024.html",
        "cx-annual-report-2024.pdf",
        "key_metrics.json",
        "key_metrics.csv",
    ):
        assert (out / name).stat().st_size > 0, name


def test_interactions(metrics: dict) -> None:
    # i1..i10 (i1's exact duplicate collapsed, i11 rejected); i8 (23:30 EST) and i9 (04:30 UTC on
    # 1 Jan = 23:30 EST on 31 Dec) are 2024 by local date.
    assert metrics["interactions"] == {
        "total": 10,
        "by_type": {"general_inquiry": 6, "service_request": 3, "status_update": 1},
        "by_channel": {"phone": 5, "email": 2, "live_chat": 1, "mobile_app": 1, "web": 1},
        # phone 5 vs 1 in 2023 → +4.0; web 1 vs 2 → −0.5; the others had no 2023 data → null
        "channel_change_vs_prior_year": {
            "phone": 4.0,
            "email": None,
            "live_chat": None,
            "mobile_app": None,
            "web": -0.5,
        },
    }
    # Property Tax Billing i1, i2, i8 = 3; Vacant Home Tax i5, i6 = 2; Garbage i9 = 1
    assert metrics["general_inquiries"]["top_topics"] == [
        {"topic": "Property Tax Billing", "count": 3},
        {"topic": "Vacant Home Tax", "count": 2},
        {"topic": "Garbage Collection Schedule", "count": 1},
    ]


def test_inquiry_quarters_without_a_surge(built: tuple[Path, Path], metrics: dict) -> None:
    # The interaction data start in 2023-Q2 (j1..j3, 1 May 2023) and end in 2024-Q4 (i8, i9 on
    # 31 Dec local): 2024-Q1 has 3 quarters before it (not evaluated), 2024-Q2..Q4 have 4.
    # No surge: every count is far under the floor of 1,000.
    gi = metrics["general_inquiries"]
    assert gi["inquiry_surges"] == []

    def quarter(q, count, phone, median, evaluated):
        return {"quarter": q, "count": count, "phone_count": phone, "baseline_median": median,
                "evaluated": evaluated, "surge": False}

    # without a surge the chart shows the year's most frequent topic, Property Tax Billing:
    # j1 (phone) j2 (web) in 2023-Q2; i1 i2 (phone) in 2024-Q1; i8 (web) in 2024-Q4; 0 elsewhere.
    # 2024-Q2: median(2, 0, 0, 2) = 1.0; Q3: median(0, 0, 2, 0) = 0.0; Q4: median(0, 2, 0, 0) = 0.0
    assert gi["quarterly"] == [{"topic": "Property Tax Billing", "quarters": [
        quarter("2023-Q2", 2, 1, None, False), quarter("2023-Q3", 0, 0, None, False),
        quarter("2023-Q4", 0, 0, None, False), quarter("2024-Q1", 2, 2, None, False),
        quarter("2024-Q2", 0, 0, 1.0, True), quarter("2024-Q3", 0, 0, 0.0, True),
        quarter("2024-Q4", 1, 0, 0.0, True)]}]
    import duckdb

    with duckdb.connect(str(built[1] / "warehouse.duckdb"), read_only=True) as con:
        vht = con.execute(
            "SELECT quarter_label, interactions, phone_interactions, is_evaluated, baseline_median "
            "FROM marts.mart_inquiry_quarters WHERE topic = 'Vacant Home Tax' AND interactions > 0").fetchall()
    # i5 (phone, abandoned) and i6 (e-mail) in 2024-Q1, too early to evaluate
    assert vht == [("2024-Q1", 2, 1, False, None)]


def test_phone(metrics: dict) -> None:
    phone = metrics["phone"]
    # offered i1..i5 = 5: answered i1 (30 s), i2 (75 s), i3 (76 s); abandoned i4 (4 s, short), i5 (60 s)
    assert {k: phone[k] for k in ("offered", "answered", "abandoned", "short_abandoned")} == {
        "offered": 5,
        "answered": 3,
        "abandoned": 2,
        "short_abandoned": 1,
    }
    assert phone["answered_within_threshold"] == 2  # 30 s and exactly 75 s; 76 s is over
    assert phone["service_level"] == pytest.approx(2 / (5 - 1))  # 0.5
    assert phone["target"] == 0.8
    assert phone["asa_seconds"] == pytest.approx((30 + 75 + 76) / 3)  # 60.33
    assert phone["aht_seconds"] == pytest.approx((200 + 300 + 400) / 3)  # 300
    assert phone["abandon_rate"] == pytest.approx((2 - 1) / (5 - 1))  # 0.25
    # January: i1, i2 both within → 2/2; February: i3 (76 s), i4 (short), i5 → 0/(3−1)
    assert phone["monthly"] == [
        {"month": "2024-01", "service_level": 1.0, "asa_seconds": 52.5, "offered": 2},
        {"month": "2024-02", "service_level": 0.0, "asa_seconds": 76.0, "offered": 3},
    ]


def test_the_documents_read_target_met_and_shares_from_the_marts(built: tuple[Path, Path]) -> None:
    """What the documents read beside key_metrics.json's figures (pipeline/metrics.py,
    DOCUMENTS_ONLY), as the marts hold them; key_metrics.json leaves them out (the tests above)."""
    from pipeline.metrics import key_metrics

    documents = key_metrics(built[1] / "warehouse.duckdb", 2024)
    phone = documents["phone"]
    # the year 0.5 against 0.8: not met; January 2/2 met, February 0/2 not
    assert phone["target_met"] is False
    assert [(m["month"], m["target_met"]) for m in phone["monthly"]] == [("2024-01", True), ("2024-02", False)]
    # of the 10 interactions: general inquiries 6, SRs 3, status update 1; phone 5, e-mail 2, the others 1
    interactions = documents["interactions"]
    assert interactions["share_by_type"] == {"general_inquiry": 0.6, "service_request": 0.3, "status_update": 0.1}
    assert interactions["share_by_channel"] == {"phone": 0.5, "email": 0.2, "live_chat": 0.1, "mobile_app": 0.1,
                                                "web": 0.1}
    # of the 6 SRs: bin lids 2, each other type 1
    assert [t["share"] for t in documents["service_requests"]["top_types"]] == pytest.approx([2 / 6] + [1 / 6] * 4)
    # French, 1 of the 9 interactions with a recorded language
    assert documents["languages"]["top_other_than_english"] == [{"language": "fr", "count": 1,
                                                                 "share": pytest.approx(1 / 9)}]


def test_email(metrics: dict) -> None:
    # i6 answered after exactly 48 h (within), i7 after 48 h + 1 s (not)
    assert metrics["email"] == {"received": 2, "acknowledged_within_standard": 0.5}


def test_transfers_and_languages(built: tuple[Path, Path], metrics: dict) -> None:
    # answered phone and live chat: i1 (N), i2 (N), i3 (Y), i9 (live chat, blank) = 4; recorded
    # i1 i2 i3 = 3; transferred i3 = 1 → 2/3. Abandoned i4, i5 are not counted; i6..i8, i10 are
    # other channels. 2023's extract has no transferred column → no prior-year share.
    assert metrics["transfers"] == {
        "answered": 4,
        "recorded": 3,
        "transferred": 1,
        "handled_without_transfer": pytest.approx(2 / 3),
        "prior_year_handled_without_transfer": None,
        "by_channel": {"phone": pytest.approx(2 / 3), "live_chat": None},  # i9 blank: none recorded
        # January i1 i2 → 2/2; February i3 → 0/1; December i9 (31 Dec local) → none recorded
        "monthly": [
            {"month": "2024-01", "handled_without_transfer": 1.0, "recorded": 2},
            {"month": "2024-02", "handled_without_transfer": 0.0, "recorded": 1},
            {"month": "2024-12", "handled_without_transfer": None, "recorded": 0},
        ],
    }
    # i1..i10: en i1 i2 i4 i5 i6 i8 i9 + 'EN' i10 = 8, fr i3 = 1, blank i7 → recorded 9, 2 languages,
    # other than English 1/9
    assert metrics["languages"] == {
        "recorded": 9,
        "not_recorded": 1,
        "distinct": 2,
        "other_than_english_share": pytest.approx(1 / 9),
        "top_other_than_english": [{"language": "fr", "count": 1}],
    }
    # 2023's interactions carry neither column: both sections are null
    from pipeline.metrics import key_metrics

    earlier = key_metrics(built[1] / "warehouse.duckdb", 2023)
    assert earlier["interactions"]["total"] == 3
    assert (earlier["transfers"], earlier["languages"]) == (None, None)
    csv_text = (built[1] / "2024" / "key_metrics.csv").read_text(encoding="utf-8")
    assert "transfers.monthly[2].recorded,0\n" in csv_text
    assert "languages.top_other_than_english[0].language,fr\n" in csv_text


def test_service_requests(metrics: dict) -> None:
    sr = metrics["service_requests"]
    # S1..S7 less cancelled S5 = 6; 2023: T1, T2 = 2 → (6 − 2) / 2 = 2.0
    assert (sr["total"], sr["cancelled"], sr["prior_year_total"]) == (6, 1, 2)
    assert sr["change_vs_prior_year"] == pytest.approx(2.0)
    assert sr["top_types"] == [
        {"sr_type": "Residential Bin Lid Damaged", "count": 2},  # S1, S6 (S5 cancelled)
        {"sr_type": "Amplified Sound", "count": 1},  # ties alphabetical
        {"sr_type": "Dead Wildlife Pickup", "count": 1},
        {"sr_type": "Injured Wildlife", "count": 1},
        {"sr_type": "Road - Pot hole", "count": 1},
    ]
    assert sr["by_division"] == [
        {"division": "Municipal Licensing & Standards", "count": 3, "share": 0.5},  # S3, S4, S7
        {"division": "Solid Waste Management Services", "count": 2, "share": pytest.approx(2 / 6)},
        {"division": "Transportation Services", "count": 1, "share": pytest.approx(1 / 6)},
    ]
    # days to close: S1 2.0, S2 5.29, S3 4.0, S6 1.5, S7 4.0 → median 4.0
    assert sr["median_days_to_close"] == pytest.approx(4.0)
    # with a standard: S1, S6 (bin lid, 10 business days) on time; S2 (pot hole, 5 business days from
    # Fri 28 Jun: due Mon 8 Jul) on time; S3 (dead wildlife, 2 calendar days: due 3 Mar, closed 5 Mar)
    # late; S7 (amplified sound, 5 calendar days: due 4 Jan, closed 3 Jan) on time → 4 / 5
    assert sr["on_time_rate"] == pytest.approx(0.8)
    # S4 still open, S7 closed after 31 Dec → 2
    assert sr["open_at_period_end"] == 2
    assert sr["surge_days"] == []  # nothing reaches the floor of 100


def test_wards(metrics: dict) -> None:
    wards = {w["ward_name"]: w for w in metrics["service_requests"]["by_ward"]}
    assert len(wards) == 26  # 25 wards + Unknown
    # ward 2: S1 ('Etobicoke Centre (02)'), S2 ('2'); ward 3: S3 ('03'), S4 (by name); Unknown: S6 (blank), S7
    assert wards["Etobicoke Centre"]["count"] == 2
    assert wards["Etobicoke Centre"]["per_1000_residents"] == pytest.approx(2 * 1000 / 117200)
    assert wards["Etobicoke-Lakeshore"]["count"] == 2
    assert wards["Etobicoke-Lakeshore"]["per_1000_residents"] == pytest.approx(2 * 1000 / 139920)
    assert wards["Unknown"]["ward_number"] is None
    assert wards["Unknown"]["count"] == 2
    assert wards["Unknown"]["per_1000_residents"] is None
    assert wards["Etobicoke North"]["count"] == 0
    # every other ward: 0 SRs, 0 per 1,000, share 0, ranked 4th after the three tied at 2
    for name, ward in wards.items():
        expected = 2 if name in ("Etobicoke Centre", "Etobicoke-Lakeshore", "Unknown") else 0
        assert (ward["count"], ward["rank"]) == (expected, 1 if expected else 4), name
        assert ward["share"] == pytest.approx(expected / 6), name
        if expected == 0:
            assert ward["per_1000_residents"] == 0.0, name
    assert [w["ward_number"] for w in metrics["service_requests"]["by_ward"]] == [*range(1, 26), None]
    assert wards["Etobicoke Centre"]["top_types"] == [
        {"sr_type": "Residential Bin Lid Damaged", "count": 1},
        {"sr_type": "Road - Pot hole", "count": 1},
    ]


def test_knowledge_base_and_data_quality(metrics: dict) -> None:
    # 2024 only: Property Tax 100 + 50 = 150, Garbage 120 (the 999 views are dated 2023)
    assert metrics["knowledge_base"] == {
        "top_articles": [
            {"article_title": "Property Tax", "views": 150},
            {"article_title": "Garbage & Recycling Schedule", "views": 120},
        ]
    }
    # the files the 2024 figures depend on: 2024/ interactions 12 rows (10 loaded, 1 rejected,
    # 1 duplicate), SRs 7, KB views 4; and 2023/ (every comparison reads it) interactions 3, SRs 2
    assert metrics["data_quality"] == {
        "rows_read": 28,
        "rows_loaded": 26,
        "rows_rejected": 1,
        "duplicates_collapsed": 1,
    }


# Every file of the 2024 set, as `report --year 2024` writes it.
OUTPUT_SET = [
    "appendix-a-key-metrics-2024.html", "appendix-a-key-metrics-2024.pdf",
    "appendix-b-key-metrics-2024-text-only.html", "appendix-b-key-metrics-2024-text-only.pdf",
    "cx-annual-report-2024.html", "cx-annual-report-2024.pdf",
    "key_metrics.csv", "key_metrics.json", "manifest.json",
]
CALLERS = ("Jane Roe", "John Doe")  # i1's and i2's caller_name in tests/integration/extracts.py


def test_personal_data_never_reaches_outputs(built: tuple[Path, Path]) -> None:
    raw, output = built
    out = output / "2024"
    # the names are there to leak: a column of the extract the contract does not read
    extract = (raw / "2024" / "interactions_2024.csv").read_text(encoding="utf-8")
    assert all(name in extract for name in CALLERS)
    # every file of the set is read: the PDFs as pdftotext reads their words
    assert sorted(p.name for p in out.iterdir()) == OUTPUT_SET
    for path in sorted(out.iterdir()):
        if path.suffix in (".json", ".csv", ".html"):
            text = path.read_text(encoding="utf-8")
            assert "Jane Roe" not in text and "John Doe" not in text, path.name
        else:
            assert path.suffix == ".pdf", path.name
            text = pdf_text(path)
            assert "311 Toronto" in text, path.name  # the document's words were read
        words = " ".join(text.split())  # a name broken across two lines is found too
        assert [name for name in CALLERS if name in words] == [], path.name
    # the annual report names the column, never its values
    assert "caller_name" in pdf_text(out / "cx-annual-report-2024.pdf")


def test_a_failed_run_leaves_the_previous_set_untouched(built: tuple[Path, Path], capsys) -> None:
    raw, output = built
    before = {p.name: p.read_bytes() for p in (output / "2024").iterdir()}
    narrative = raw / "narrative" / "2024"
    narrative.mkdir(parents=True)
    try:
        (narrative / "highlights.md").write_text("Calls: {{ phone.no_such_figure }}\n", encoding="utf-8")
        code = main(["report", "--year", "2024", "--raw", str(raw), "--output", str(output),
                     "--max-reject-rate", "0.5"])
    finally:
        (narrative / "highlights.md").unlink()
        narrative.rmdir()
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1].startswith("error: ") and "narrative/2024/highlights.md, line 1: " in err
    assert "Traceback" not in err
    # key_metrics.json, the documents and the manifest are all the previous run's
    assert {p.name: p.read_bytes() for p in (output / "2024").iterdir()} == before
    assert not (output / ".staging").exists()


def test_a_year_without_data_names_the_years_there_are(built: tuple[Path, Path], capsys) -> None:
    raw, output = built
    code = main(["report", "--year", "2019", "--raw", str(raw), "--output", str(output),
                 "--max-reject-rate", "0.5"])
    assert code == 2
    # 2023 and 2024 folders; i9 (2025-01-01 04:30 UTC) is 2024-12-31 23:30 in Toronto
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: The extracts in {raw} hold no data for 2019 (they cover 2023 to 2024).")
    assert not (output / "2019").exists()


def test_manifest_lists_inputs_version_and_outputs(built: tuple[Path, Path]) -> None:
    import hashlib

    raw, output = built
    manifest = json.loads((output / "2024" / "manifest.json").read_text(encoding="utf-8"))
    # every file the figures depend on: the 2024 folder and the 2023 one (the comparisons)
    assert [(f["name"], f["rows_read"]) for f in manifest["inputs"]] == [
        ("2023/interactions_2023.csv", 3),
        ("2023/service_requests_2023.csv", 2),
        ("2024/interactions_2024.csv", 12),
        ("2024/kb_views_2024.csv", 4),
        ("2024/service_requests_2024.csv", 7),
    ]
    source = raw / "2024" / "kb_views_2024.csv"
    assert manifest["inputs"][3]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    # and the report's Sources list the same files (a file name's <wbr> break points left out)
    html = _file_names_plain((output / "2024" / "cx-annual-report-2024.html").read_text(encoding="utf-8"))
    sources = html[html.index('<ul class="sources">'):]
    sources = sources[:sources.index("</ul>")]
    assert re.findall(r"<code>([^<]+)</code>", sources) == [f["name"] for f in manifest["inputs"]]
    outputs = {o["name"]: o for o in manifest["outputs"]}
    pdf = output / "2024" / "cx-annual-report-2024.pdf"
    assert outputs[pdf.name]["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert outputs[pdf.name]["pages"] >= 2
    assert {"key_metrics.json", "key_metrics.csv", "cx-annual-report-2024.html"} <= set(outputs)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert manifest["version"]["git_commit"] == head.stdout.strip()
    # the software: this interpreter and the three lock files, hashed in order
    lock = hashlib.sha256()
    for name in ("default.txt", "test.txt", "spark.txt"):
        lock.update((Path(__file__).parents[2] / "requirements" / name).read_bytes())
    assert manifest["version"]["python"] == platform.python_version()
    assert manifest["version"]["lock_sha256"] == lock.hexdigest()


def _file_names_plain(html: str) -> str:
    """The HTML with its file names as plain <code> (on screen they carry <wbr> break points)."""
    return html.replace("<wbr>", "").replace('<code class="file">', "<code>")


def test_data_notes_say_how_each_file_was_read_and_the_column_not_read(built: tuple[Path, Path]) -> None:
    html = _file_names_plain((built[1] / "2024" / "cx-annual-report-2024.html").read_text(encoding="utf-8"))
    notes = html[html.index('<ul class="sources">'):html.index("<h4>Definitions</h4>")]
    # every fixture file is plain ASCII text without a byte-order mark: UTF-8. Of the extra
    # columns only interactions_2024.csv has one, caller_name (its 13th column; the 2023 file
    # lacks columns, which is no note). The raw folder holds nothing but extracts: no list of
    # files not read.
    assert notes.split("\n") == [
        '<ul class="sources">',
        "<li><code>2023/interactions_2023.csv</code>: read as UTF-8</li>",
        "<li><code>2023/service_requests_2023.csv</code>: read as UTF-8</li>",
        "<li><code>2024/interactions_2024.csv</code>: read as UTF-8</li>",
        "<li><code>2024/kb_views_2024.csv</code>: read as UTF-8</li>",
        "<li><code>2024/service_requests_2024.csv</code>: read as UTF-8</li>",
        "</ul>",
        "<p>Columns of these files that were not read (by name; their values were never looked at):</p>",
        '<ul class="load-notes">',
        "<li><code>2024/interactions_2024.csv</code>: 1 column(s) not in the contract, ignored: "
        "&#39;caller_name&#39;</li>",
        "</ul>",
        # the delivery order: the five files were first loaded together, so they are in the order
        # of their modification times (tests/integration/extracts.py: the order written); no id
        # is delivered in two files, so no order chose a version and nothing more is said
        "<p>When an interaction or a service request is delivered more than once, one version counts: "
        "for a service request, the one with the latest <code>updated_at</code> (a version that has one "
        "before a version that has none); otherwise the later delivery, in this order (a file keeps the "
        "place it had when it was first loaded, whatever date a copy gives it):</p>",
        '<ol class="delivery-order">',
        "<li><code>2023/interactions_2023.csv</code>: placed by its modification time</li>",
        "<li><code>2023/service_requests_2023.csv</code>: placed by its modification time</li>",
        "<li><code>2024/interactions_2024.csv</code>: placed by its modification time</li>",
        "<li><code>2024/service_requests_2024.csv</code>: placed by its modification time</li>",
        "<li><code>2024/kb_views_2024.csv</code>: placed by its modification time</li>",
        "</ol>",
        "",
    ]
    # the column's values (i1's and i2's callers) are in no document
    docs = sorted((built[1] / "2024").glob("*.html"))
    assert [doc.name for doc in docs] == [name for name in OUTPUT_SET if name.endswith(".html")]
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        assert "Jane Roe" not in text and "John Doe" not in text, doc.name


def test_data_notes_name_rejects_and_illustrative_standards(built: tuple[Path, Path]) -> None:
    html = _file_names_plain((built[1] / "2024" / "cx-annual-report-2024.html").read_text(encoding="utf-8"))
    # i11's channel 'fax' is the one reject of 2024/interactions_2024.csv
    assert "<code>2024/interactions_2024.csv</code></th><td>unknown channel: 1</td>" in html
    assert "illustrative values shipped with the pipeline" in html
    # the cancelled count is stated once (S5)
    assert html.count("1 service requests created in 2024 were cancelled") == 1
