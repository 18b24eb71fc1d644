"""BIA monthly reports end to end: hand-made extracts → real loader (with point in polygon) →
real dbt build → pipeline/bia.py → HTML, PDF/UA, index, bia_metrics.json, manifest.json.
Every expected figure is worked out by hand from the fixture below."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.bia import batch as bia
from pipeline.cli import main
from tests.support import a11y
from tests.support.pdf_tables import table_semantics_report
from tests.support.pdf_text import pdf_text

# Kensington Market is written in lower case in the extract (matched to the seed's
# "Kensington Market BIA"); Baby Point Gates has no name in the extract, only coordinates
# inside the square of bia_boundaries.geojson; "Nowhere BIA" is in no seed.
SR_2023 = """\
sr_id,created_at,closed_at,status,sr_type,division,ward,bia,latitude,longitude
K0,2023-01-05 10:00:00,2023-01-06 10:00:00,Closed,Graffiti,Transportation Services,10,kensington market,,
Ka,2023-07-03 10:00:00,2023-07-04 10:00:00,Closed,Graffiti,Transportation Services,10,Kensington Market BIA,,
Kb,2023-07-04 10:00:00,2023-07-06 10:00:00,Closed,Graffiti,Transportation Services,10,Kensington Market BIA,,
"""

# Locations (issue 27): K5 and K6 are the same corner written both ways; K7's street carries a
# house number, which no output may show; K2 has none. B1's type is written with the exports'
# '||' (read ", ").
SR_2024 = """\
sr_id,created_at,closed_at,status,sr_type,division,ward,bia,latitude,longitude,intersection_1,intersection_2
K1,2024-01-15 10:00:00,2024-01-17 10:00:00,Closed,Graffiti,Transportation Services,10,kensington market,,,,
K2,2024-03-20 10:00:00,,Initiated,Graffiti,Transportation Services,10,Kensington Market BIA,,,,
K3,2024-04-02 10:00:00,2024-04-03 10:00:00,Closed,Graffiti,Transportation Services,10,Kensington Market BIA,,,,
K4,2024-04-05 10:00:00,2024-04-06 10:00:00,Cancelled,Graffiti,Transportation Services,10,Kensington Market BIA,,,,
K5,2024-07-02 09:00:00,2024-07-05 09:00:00,Closed,Road - Pot hole,Transportation Services,10,Kensington Market BIA,,,Baldwin St,Augusta Ave
K6,2024-07-10 09:00:00,2024-07-11 09:00:00,Closed,Road - Pot hole,Transportation Services,10,Kensington Market BIA,,,Augusta Ave,Baldwin St
K7,2024-07-20 09:00:00,,In Progress,Graffiti,Transportation Services,10,Kensington Market BIA,,,187 Kensington Ave,
K8,2024-07-25 09:00:00,2024-07-26 09:00:00,Cancelled,Graffiti,Transportation Services,10,Kensington Market BIA,,,Augusta Ave,Baldwin St
B1,2024-07-16 09:00:00,,Initiated,Sidewalk Icy|| Needs Sand/Salt,Transportation Services,4,,43.605,-79.495,,
O1,2024-07-15 09:00:00,,Initiated,Graffiti,Transportation Services,4,,,,,
O2,2024-07-15 10:00:00,,Initiated,Graffiti,Transportation Services,4,,43.70,-79.40,,
U1,2024-07-17 09:00:00,,Initiated,Graffiti,Transportation Services,4,Nowhere BIA,,,,
"""
# Kensington's named 311 contact; every other BIA names the service's public mailbox
LIAISONS = "bia_name,name,title,phone,email\nkensington market,Ana Lima,BIA Liaison,416-555-0100,ana.lima@example.org\n"

# Only potholes have a standard here: 2 calendar days.
STANDARDS = "sr_type,target_days,day_basis\nRoad - Pot hole,2,calendar\n"

SQUARE = {
    "type": "FeatureCollection",
    "features": [{
        "type": "Feature",
        "properties": {"bia_name": "Baby Point Gates BIA"},
        "geometry": {"type": "Polygon", "coordinates": [[
            [-79.50, 43.60], [-79.49, 43.60], [-79.49, 43.61], [-79.50, 43.61], [-79.50, 43.60]
        ]]},
    }],
}

KENSINGTON, BABY_POINT, EMPTY = "Kensington Market BIA", "Baby Point Gates BIA", "Bloor Annex BIA"
SEED_BIAS = 79


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_raw(raw: Path, demo: bool = True) -> None:
    for year, text in ((2023, SR_2023), (2024, SR_2024)):
        (raw / str(year)).mkdir(parents=True)
        (raw / str(year) / f"service_requests_{year}.csv").write_text(text, encoding="utf-8")
    (raw / "reference").mkdir()
    (raw / "reference" / "service_standards.csv").write_text(STANDARDS, encoding="utf-8")
    (raw / "reference" / "bia_boundaries.geojson").write_text(json.dumps(SQUARE), encoding="utf-8")
    (raw / "reference" / "bia_liaisons.csv").write_text(LIAISONS, encoding="utf-8")
    if demo:  # marked as the demo set: the marker lists each file with its SHA-256
        listed = "\n".join(f"{sha256(raw / str(y) / f'service_requests_{y}.csv')}  "
                           f"{y}/service_requests_{y}.csv" for y in (2023, 2024))
        (raw / "DEMO_DATA.md").write_text(f"synthetic\n\n```text\n{listed}\n```\n", encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    raw = tmp_path_factory.mktemp("raw")
    output = tmp_path_factory.mktemp("output")
    make_raw(raw)
    # every BIA of the seed (issue 27: page counts over the whole batch)
    code = main(["bia", "--month", "2024-07", "--raw", str(raw), "--output", str(output)])
    assert code == 0
    out = output / "bia" / "2024-07"
    return {
        "raw": raw,
        "output": output,
        "out": out,
        "db": output / "warehouse.duckdb",
        "metrics": {r["bia_name"]: r for r in json.loads((out / "bia_metrics.json").read_text("utf-8"))},
    }


def test_bia_builds_only_what_its_reports_read(built: dict) -> None:
    """`bia` runs dbt on the BIA reports' exposure: the service-request models and marts and
    their tests, not the interactions models (this fixture has no interactions at all)."""
    results = json.loads((built["output"] / "dbt_target" / "run_results.json").read_text("utf-8"))
    ids = {r["unique_id"] for r in results["results"]}
    assert {"model.cx311.mart_bia_monthly", "model.cx311.mart_data_quality", "model.cx311.int_sr_bias"} <= ids
    models = {i.split(".")[-1] for i in ids if i.startswith("model.")}
    assert not [m for m in models if "interaction" in m or m == "mart_languages"]
    assert not [i for i in ids if "int_interactions" in i or "mart_interaction_mix" in i]  # nor their tests
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        assert con.execute("SELECT scope FROM main.cx311_build").fetchall() == [("bia_monthly_reports",)]


# --------------------------------------------------------------------------- figures


def test_july_figures_by_hand(built: dict) -> None:
    k = built["metrics"][KENSINGTON]
    # July 2024: K5, K6, K7 (K8 cancelled) = 3. Q3 starts in July → QTD 3.
    # YTD: K1 (Jan) + K2 (Mar) + K3 (Apr; K4 cancelled) + 3 = 6.
    # July 2023: Ka, Kb = 2 → change (3 − 2) / 2 = +0.5.
    assert k["month"] == "2024-07"
    assert (k["service_requests"], k["quarter_to_date"], k["year_to_date"]) == (3, 3, 6)
    assert (k["same_month_prior_year"], k["change_vs_same_month_prior_year"]) == (2, 0.5)
    # Closed in July: K5 (3.0 d, due 07-04, closed 07-05: late), K6 (1.0 d, due 07-12: on time)
    # → median 2.0 days, on time 1 of 2.
    assert k["median_days_to_close"] == 2.0
    assert k["on_time_rate"] == 0.5
    # Open at July 31: K2 (March, never closed) and K7 → 2.
    assert k["open_at_month_end"] == 2
    # Top types: 2 potholes, 1 graffiti (K8 cancelled is not counted).
    assert k["top_types"] == [{"sr_type": "Road - Pot hole", "count": 2}, {"sr_type": "Graffiti", "count": 1}]
    # Status of July's SRs, cancelled included: K5, K6 closed; K7 in progress; K8 cancelled
    # (a list like top_types, in the order initiated, in progress, closed, cancelled, unknown).
    assert k["by_status"] == [{"status": "in_progress", "count": 1}, {"status": "closed", "count": 2},
                              {"status": "cancelled", "count": 1}]
    assert k["closed_in_month"] == 2  # K5, K6
    # City July 2024 (not cancelled): K5 K6 K7 B1 O1 O2 U1 = 7 → 3/7.
    assert k["share_of_city"] == pytest.approx(3 / 7, abs=0, rel=1e-12)


def test_the_reports_type_shares_come_from_the_mart(built: dict) -> None:
    # July: 2 potholes and 1 graffiti of Kensington's 3 SRs (K8 cancelled); bia_metrics.json
    # keeps top_types without the share (the test above)
    data = bia.month_data(built["db"], "2024-07")
    # (and how many types have each count: no tie here)
    assert data.top_types[KENSINGTON] == [
        {"sr_type": "Road - Pot hole", "count": 2, "share": pytest.approx(2 / 3), "tied": 1},
        {"sr_type": "Graffiti", "count": 1, "share": pytest.approx(1 / 3), "tied": 1}]
    assert EMPTY not in data.top_types
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert '<td>Road - Pot hole</td><td class="num">2</td><td class="num">67%</td>' in html
    assert '<td>Graffiti</td><td class="num">1</td><td class="num">33%</td>' in html


def test_blank_bia_inside_the_polygon_counts_for_that_bia(built: dict) -> None:
    # B1 has no BIA name but lies inside the square → Baby Point Gates; O2 lies outside.
    b = built["metrics"][BABY_POINT]
    assert (b["service_requests"], b["quarter_to_date"], b["year_to_date"]) == (1, 1, 1)
    assert b["share_of_city"] == pytest.approx(1 / 7, rel=1e-12)
    # No data for July 2023 at all in this BIA, but the month is in the data → 0, change n/a.
    assert (b["same_month_prior_year"], b["change_vs_same_month_prior_year"]) == (0, None)
    # nothing closed in July: 0 closed (the extract has closing times), so median and on-time
    # are null ("not available")
    assert b["closed_in_month"] == 0
    assert (b["median_days_to_close"], b["on_time_rate"], b["open_at_month_end"]) == (None, None, 1)
    assert b["by_status"] == [{"status": "initiated", "count": 1}]  # B1


def test_april_restarts_the_quarter(built: dict) -> None:
    k = next(r for r in bia.month_data(built["db"], "2024-04").records if r["bia_name"] == KENSINGTON)
    # April: K3 (K4 cancelled) = 1; QTD = April only = 1; YTD = K1 + K2 + K3 = 3.
    assert (k["service_requests"], k["quarter_to_date"], k["year_to_date"]) == (1, 1, 3)
    # April 2023 had none → 0, and a change from 0 is not defined.
    assert (k["same_month_prior_year"], k["change_vs_same_month_prior_year"]) == (0, None)
    # K3 closed in April after 1.0 day; Graffiti has no standard here → on-time null.
    assert (k["median_days_to_close"], k["on_time_rate"]) == (1.0, None)
    assert k["open_at_month_end"] == 1  # K2


def test_january_quarter_and_year_to_date_are_january(built: dict) -> None:
    data = bia.month_data(built["db"], "2024-01")
    k = next(r for r in data.records if r["bia_name"] == KENSINGTON)
    # January 2024: K1 = 1 = QTD = YTD; January 2023: K0 = 1 → change 0.
    assert (k["service_requests"], k["quarter_to_date"], k["year_to_date"]) == (1, 1, 1)
    assert (k["same_month_prior_year"], k["change_vs_same_month_prior_year"]) == (1, 0.0)
    # K1: 2.0 days
    assert k["median_days_to_close"] == 2.0
    # the 13-month trend starts in January 2023 (K0) and has a row for every month
    trend = data.trends[KENSINGTON]
    assert [t["month"] for t in trend][:2] == ["2023-01", "2023-02"]
    assert [t["service_requests"] for t in trend] == [1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1]


def test_every_seed_bia_gets_a_record_and_unknown_names_are_listed(built: dict) -> None:
    data = bia.month_data(built["db"], "2024-07")
    assert len(data.records) == SEED_BIAS
    assert len({bia.slugify(r["bia_name"]) for r in data.records}) == SEED_BIAS
    assert data.unknown_names == [{"bia_raw": "Nowhere BIA", "service_requests": 1, "in_month": 1}]
    # months before the data are "no data", not 0
    trend = data.trends[KENSINGTON]
    assert [t["service_requests"] for t in trend[:7]] == [2, 0, 0, 0, 0, 0, 1]


def test_names_are_keyed_by_the_macro_and_typed_names_match_them(built: dict, tmp_path: Path) -> None:
    data = bia.month_data(built["db"], "2024-07")
    # every seed name's key (mart_bia_directory, dbt's bia_key) is what a person typing it gets
    assert len(data.keys) == SEED_BIAS
    assert all(bia.typed_name_key(name) == key for name, key in data.keys.items())
    # the seed's extent 'Kensington Market' only repeats the name: not shown
    assert (data.extents[KENSINGTON], data.extents[BABY_POINT]) == ("", "Jane and Annette Streets")
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert "<dt>Area</dt>" not in html
    assert "<dt>Area</dt><dd>Jane and Annette Streets</dd>" in (built["out"] / "baby-point-gates-bia.html").read_text("utf-8")
    # --bia as a person types it
    result = bia.run_batch(built["db"], built["raw"], tmp_path, "2024-07", workers=1, only=["  KENSINGTON market "])
    assert result.rendered == ["kensington-market-bia"]
    with pytest.raises(bia.BiaError, match="not BIAs in the seed: nowhere"):
        bia.run_batch(built["db"], built["raw"], tmp_path, "2024-07", workers=1, only=[KENSINGTON, "Nowhere BIA"])


def test_month_outside_the_data_is_an_error(built: dict) -> None:
    with pytest.raises(bia.BiaError, match="no service requests for 2025-03"):
        bia.month_data(built["db"], "2025-03")
    with pytest.raises(bia.BiaError, match="2024-07"):
        bia.parse_month("July 2024")


# --------------------------------------------------------------------------- outputs


def test_files_index_metrics_and_manifest(built: dict) -> None:
    out = built["out"]
    names = sorted(p.name for p in out.iterdir())
    slugs = [bia.slugify(r["bia_name"]) for r in json.loads((out / "bia_metrics.json").read_text("utf-8"))]
    assert len(slugs) == SEED_BIAS
    assert names == sorted([f"{s}.{ext}" for s in slugs for ext in ("html", "pdf")]
                           + ["bia_metrics.json", "index.html", "manifest.json"])
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [i["name"] for i in manifest["inputs"]] == [
        "2023/service_requests_2023.csv", "2024/service_requests_2024.csv"]
    outputs = {o["name"]: o for o in manifest["outputs"]}
    assert outputs["kensington-market-bia.pdf"]["sha256"] == sha256(out / "kensington-market-bia.pdf")
    assert outputs["kensington-market-bia.pdf"]["pages"] in (1, 2)
    index = (out / "index.html").read_text("utf-8")
    for s in slugs:
        assert f'href="{s}.html"' in index and f'href="{s}.pdf"' in index


def test_report_shows_the_figures(built: dict) -> None:
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert "<h1 id=\"report-title\">Kensington Market BIA: 311 service requests, July 2024</h1>" in html
    assert "50% more than the 2 in July 2023" in html
    assert "2.0 days" in html and "42.86%" in html  # median; share 3/7 = 0.428571 → 42.86%
    assert "Synthetic demo data" in html
    assert 'role="img" aria-labelledby="chart-trend-title"' in html
    assert "July 2024: 3." in html  # generated alt text


def test_bia_metrics_json_has_the_documented_shape(built: dict) -> None:
    """docs/metrics.md, BIA monthly report: the keys, in that order, lists for top_types and
    by_status, and an empty BIA with zeros (closed_in_month 0, not null)."""
    records = json.loads((built["out"] / "bia_metrics.json").read_text("utf-8"))
    keys = ["bia_name", "month", "service_requests", "quarter_to_date", "year_to_date", "previous_month",
            "change_vs_previous_month", "same_month_prior_year", "change_vs_same_month_prior_year",
            "top_types", "top_locations", "by_status", "closed_in_month", "median_days_to_close",
            "on_time_rate", "open_at_month_end", "open_requests", "share_of_city"]
    assert all(list(r) == keys for r in records)
    empty = next(r for r in records if r["bia_name"] == EMPTY)
    assert (empty["top_types"], empty["by_status"], empty["closed_in_month"]) == ([], [], 0)
    assert (empty["top_locations"], empty["open_requests"]) == ([], [])


def test_cancelled_note_only_under_a_status_table_with_a_cancelled_row(built: dict) -> None:
    note = "Cancelled requests are counted here only."
    kensington = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert '<th scope="row">Cancelled</th><td class="num">1</td>' in kensington and note in kensington
    baby_point = (built["out"] / "baby-point-gates-bia.html").read_text("utf-8")
    assert '<table id="table-status">' in baby_point and ">Cancelled<" not in baby_point
    assert note not in baby_point


def test_index_explains_n_a_only_when_the_table_shows_one(built: dict) -> None:
    note = "n/a: nothing to compare with"
    index = (built["out"] / "index.html").read_text("utf-8")
    assert '<td class="num">n/a</td>' in index and note in index  # Baby Point: none in July 2023
    data = bia.month_data(built["db"], "2024-07")
    k = next(r for r in data.records if r["bia_name"] == KENSINGTON)  # +50%: no n/a
    html = bia.render_index(data, [{"name": KENSINGTON, "slug": "kensington-market-bia", "r": k}], {}, True)
    assert '<td class="num">+50%</td>' in html and '<td class="num">n/a</td>' not in html
    assert note not in html


def test_a_bia_without_requests_gets_a_report_that_says_so(built: dict) -> None:
    html = (built["out"] / "bloor-annex-bia.html").read_text("utf-8")
    assert "No service requests were recorded in the Bloor Annex BIA area in July 2024." in html
    assert (built["out"] / "bloor-annex-bia.pdf").read_bytes().startswith(b"%PDF-")


def test_rerun_is_byte_identical(built: dict, tmp_path: Path) -> None:
    result = bia.run_batch(built["db"], built["raw"], tmp_path, "2024-07",
                           only=[KENSINGTON, BABY_POINT, EMPTY])
    assert result.ok
    reports = [p for p in sorted((tmp_path / "bia" / "2024-07").iterdir()) if p.suffix in (".html", ".pdf")
               and p.name != "index.html"]
    assert len(reports) == 6  # the index, metrics and manifest list 3 BIAs here, 79 in the build
    for path in reports:
        assert sha256(path) == sha256(built["out"] / path.name), path.name


def test_a_rerun_reuses_the_published_pdfs_unless_forced(built: dict, tmp_path: Path) -> None:
    """The published set's PDFs are copied, not laid out again, when their print HTML is
    unchanged; one whose bytes are no longer the manifest's is laid out again; with force one is
    laid out although it could be copied. Every file is byte-identical to the first run's."""
    published = tmp_path / "published"
    shutil.copytree(built["out"], published)
    (published / "baby-point-gates-bia.pdf").write_bytes(b"%PDF-1.7 not the published file")
    only = [KENSINGTON, BABY_POINT, EMPTY]
    again = bia.run_batch(built["db"], built["raw"], tmp_path / "again", "2024-07", only=only, published=published)
    assert sorted(again.reused) == ["bloor-annex-bia.pdf", "kensington-market-bia.pdf"]
    forced = bia.run_batch(built["db"], built["raw"], tmp_path / "forced", "2024-07", only=[KENSINGTON],
                           published=built["out"], force=True)
    assert forced.reused == [] and forced.rendered == ["kensington-market-bia"]
    # the three BIAs' reports are the first run's, byte for byte (the first run made every BIA's,
    # so its index, bia_metrics.json and manifest hold 79, these 3)
    slugs = ("kensington-market-bia", "baby-point-gates-bia", "bloor-annex-bia")
    compared = [p for p in sorted((tmp_path / "again" / "bia" / "2024-07").iterdir()) if p.stem in slugs]
    assert [p.name for p in compared] == sorted(f"{s}.{ext}" for s in slugs for ext in ("html", "pdf"))
    for path in compared:
        assert sha256(path) == sha256(built["out"] / path.name), path.name
    forced_pdf = tmp_path / "forced" / "bia" / "2024-07" / "kensington-market-bia.pdf"
    assert sha256(forced_pdf) == sha256(built["out"] / "kensington-market-bia.pdf")
    assert any("PDFs reused from the published set (their HTML and what it embeds are unchanged): 2; "
               "laid out again: baby-point-gates-bia.pdf" == line.strip() for line in bia.summary_lines(again))


def test_one_failing_bia_does_not_stop_the_others(built: dict, tmp_path: Path, monkeypatch,
                                                  capsys) -> None:
    real = bia.render_one

    def flaky(job):
        if job["slug"] == "baby-point-gates-bia":
            raise RuntimeError("injected failure")
        return real(job)

    monkeypatch.setattr(bia, "render_one", flaky)
    # reuse the built warehouse: the CLI's load and build are not what is tested here
    monkeypatch.setattr("pipeline.cli.load_and_build", lambda console, raw, output, rate, exposure: built["db"])
    code = main(["bia", "--month", "2024-07", "--raw", str(built["raw"]), "--output", str(tmp_path),
                 "--workers", "2", "--bia", KENSINGTON, "--bia", BABY_POINT, "--bia", EMPTY])
    err = capsys.readouterr().err
    assert code == 1
    assert "FAILED: Baby Point Gates BIA: RuntimeError: injected failure" in err
    assert "'Nowhere BIA': 1 SRs (1 in 2024-07)" in err  # unknown names in the run summary
    out = tmp_path / "bia" / "2024-07"
    assert (out / "kensington-market-bia.pdf").exists() and (out / "bloor-annex-bia.pdf").exists()
    assert not (out / "baby-point-gates-bia.pdf").exists()
    index = (out / "index.html").read_text("utf-8")
    assert "Reports not produced" in index and "Baby Point Gates BIA" in index


# --------------------------------------------------------------------------- accessibility


TITLE = "Kensington Market BIA: 311 service requests, July 2024 (synthetic demo data)"


def test_pdf_is_pdf_ua(built: dict) -> None:
    pdf = built["out"] / "kensington-market-bia.pdf"
    assert a11y.pdfua_errors(pdf) == []
    assert a11y.pdfua_skipped(pdf) == []
    assert a11y.pdf_empty_headings(pdf) == []
    assert a11y.pdf_document_problems(pdf, lang="en-CA", title=TITLE) == []
    count, problems = a11y.pdf_figures_without_alt(pdf)
    assert count == 1 and problems == []
    assert a11y.pdf_headings(pdf).count("H1") == 1


def test_html_structure(built: dict) -> None:
    for name in ("kensington-market-bia.html", "bloor-annex-bia.html", "index.html"):
        html = (built["out"] / name).read_text("utf-8")
        assert a11y.html_structure_problems(html) == [], name
    assert a11y.html_title((built["out"] / "kensington-market-bia.html").read_text("utf-8")) == TITLE


def test_axe_finds_no_violations(built: dict) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = a11y.launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name in ("kensington-market-bia.html", "index.html"):
            page.goto((built["out"] / name).as_uri())
            assert a11y.axe_violations(page) == [], name
            assert a11y.horizontal_overflow(page, 320) == 0, name
            page.set_viewport_size({"width": 1280, "height": 900})
        browser.close()


def test_pdf_table_headers_are_resolvable_and_scoped(built: dict) -> None:
    report = table_semantics_report(built["out"] / "kensington-market-bia.pdf")
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert report["th"] == report["th_with_scope"] >= html.count("<th ")
    assert report["unresolved"] == report["duplicate_ids"] == report["ids_not_in_tree"] == 0
    assert report["headers_refs"] > 0 and report["id_tree_sorted"]
    assert report["th_scope_row"] == html.count('<th scope="row"')


# --------------------------------------------------------------------------- what a liaison acts on (issue 27)


def _pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def test_every_report_of_the_batch_fits_two_pages(built: dict) -> None:
    pages = {p.name: _pages(p) for p in sorted(built["out"].glob("*.pdf"))}
    assert len(pages) == SEED_BIAS
    assert {name: n for name, n in pages.items() if n > 2} == {}


def test_a_bia_with_long_names_types_and_locations_fits_two_pages(built: dict, tmp_path: Path) -> None:
    """A made-up BIA at the limits of the seed and the catalogue: a 56-character name, the longest
    extent (189 characters), the catalogue's longest type names (84), long intersections, every
    status, five open requests, three source files: still two pages."""
    job = long_names_job(tmp_path)
    bia.render_one(job)
    assert _pages(tmp_path / "long-names-bia.pdf") == 2
    html = (tmp_path / "long-names-bia.html").read_text("utf-8")
    assert "Large Apartment/Condo Building Collection Staff - Complaint - Solid Waste Management" in html


def long_names_job(out_dir: Path) -> dict:
    from pipeline.profile import load_profile

    name = "Queen Street West and Ossington Avenue Village BIA (QWOV)"
    types = ["Large Apartment/Condo Building Collection Staff - Complaint - Solid Waste Management",
             "Residential Oversized/Electronics Item Day Collection - Not Picked Up",
             "Water Service Line - Low Pressure, Low Flow Inspection - (Sudden)",
             "Property Standards & Maintenance Violations", "Sidewalk Icy, Needs Sand/Salt"]
    places = ["Lake Shore Boulevard West and Parklawn Road", "Queen Street West and Strachan Avenue",
              "Dundas Street West and Ossington Avenue", "Bathurst Street and Front Street West",
              "Queens Quay West and Spadina Avenue"]
    top = [{"sr_type": t, "count": 40 - 5 * i, "share": (40 - 5 * i) / 150, "tied": 1} for i, t in enumerate(types)]
    rec = {"bia_name": name, "month": "2024-07", "service_requests": 1234, "quarter_to_date": 1234,
           "year_to_date": 9876, "previous_month": 1300, "change_vs_previous_month": -66 / 1300,
           "same_month_prior_year": 1100, "change_vs_same_month_prior_year": 134 / 1100,
           "top_types": [{"sr_type": t["sr_type"], "count": t["count"]} for t in top],
           "top_locations": [{"location": p, "count": 30 - i} for i, p in enumerate(places)],
           "by_status": [{"status": s, "count": 100 + i} for i, s in enumerate(bia.STATUS_LABELS)],
           "closed_in_month": 1111, "median_days_to_close": 12.34, "on_time_rate": 0.81, "open_at_month_end": 4321,
           "open_requests": [{"sr_type": types[i], "created_date": f"2023-0{i + 1}-1{i}", "age_days": 500 - i,
                              "location": places[4 - i]} for i in range(5)],
           "share_of_city": 0.0321}
    extent = ("Bounded by Front Street West and the rail corridor in the north, Lake Shore Boulevard in the "
              "south, Spadina Avenue in the east, and Strachan Avenue in the west, with Ossington Ave")
    return {
        "record": rec, "top_types": top, "slug": "long-names-bia", "extent": extent,
        "trend": [{"month": bia.month_key(bia.shift_month(bia.parse_month("2023-07"), i)),
                   "service_requests": 1000 + 25 * i} for i in range(13)],
        "demo": True, "closing_times_available": True, "city_service_requests": 38456,
        "settings": load_profile().settings(),
        "generated_from": ["2023/service_requests_2023_delivered_2024_01_15.parquet",
                           "2024/service_requests_2024_delivered_2025_01_07.parquet",
                           "open_data/SR2024_customer_initiated.zip"],
        "out_dir": str(out_dir), "extra": {"closed_with_standard": 999, "without_location": 123},
        "status_as_of": "2025-01-07", "standards_illustrative": True,
        "liaison": {"name": "Alexandra Montgomery", "title": "Senior BIA Liaison", "phone": "416-555-0199",
                    "email": "alexandra.montgomery@example.org"},
        "public_contact": {"name": "311 Toronto", "email": "311@toronto.ca"},
    }


def test_where_what_is_open_and_the_month_before_by_hand(built: dict) -> None:
    k = built["metrics"][KENSINGTON]
    # July: K5 (Baldwin/Augusta) and K6 (Augusta/Baldwin) are one corner, K8 there is cancelled;
    # K7's "187 Kensington Ave" is the street without its house number
    assert k["top_locations"] == [{"location": "Augusta Ave and Baldwin St", "count": 2},
                                  {"location": "Kensington Ave", "count": 1}]
    # open at July 31: K2 (March 20 → 133 days, no location) and K7 (July 20 → 11 days), oldest first
    assert k["open_requests"] == [
        {"sr_type": "Graffiti", "created_date": "2024-03-20", "age_days": 133, "location": None},
        {"sr_type": "Graffiti", "created_date": "2024-07-20", "age_days": 11, "location": "Kensington Ave"}]
    # June 2024 had no SR: 0, and no change from nothing
    assert (k["previous_month"], k["change_vs_previous_month"]) == (0, None)
    april = next(r for r in bia.month_data(built["db"], "2024-04").records if r["bia_name"] == KENSINGTON)
    # April: K3 (K4 cancelled) = 1 against March's K2 = 1 → 0.0
    assert (april["previous_month"], april["change_vs_previous_month"]) == (1, 0.0)
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert "<td>Augusta Ave and Baldwin St</td><td class=\"num\">2</td>" in html
    assert "Locations with the same count" not in html  # 2 and 1: no tie to explain
    assert '<th scope="row">Graffiti</th><td class="date">March 20, 2024</td><td class="num">133</td><td>not recorded</td>' in html
    assert "50% more than the 2 in July 2023, and up from 0 in June 2024." in html
    # never a house number, in any output
    for path in [built["out"] / "bia_metrics.json", *built["out"].glob("kensington*")]:
        text = path.read_text("utf-8") if path.suffix != ".pdf" else pdf_text(path)
        assert "Kensington Ave" in text and "187 Kensington" not in text, path.name


def test_type_names_are_cleaned_in_every_output(built: dict) -> None:
    b = built["metrics"][BABY_POINT]
    assert b["top_types"] == [{"sr_type": "Sidewalk Icy, Needs Sand/Salt", "count": 1}]
    assert "||" not in (built["out"] / "bia_metrics.json").read_text("utf-8")
    assert "Sidewalk Icy, Needs Sand/Salt" in (built["out"] / "baby-point-gates-bia.html").read_text("utf-8")


def test_the_status_table_says_what_it_counts_and_as_of_when(built: dict) -> None:
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    # the latest event of the extracts: K8 closed (cancelled) on July 26, 2024
    assert "Requests made in July 2024, by status on July 26, 2024" in html
    assert "“Closed”: made in July and closed by July 26, 2024." in html
    # the median's count: K5 and K6 closed in July, whenever made
    assert "of the 2 closed in July, whenever made" in html
    assert "as of the extract" not in html


def test_quarter_to_date_only_when_the_quarter_has_more_than_this_month(built: dict, tmp_path: Path) -> None:
    july = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    assert "Quarter to date" not in july  # July opens Q3: the figure would repeat the month
    bia.run_batch(built["db"], built["raw"], tmp_path, "2024-05", workers=1, only=[KENSINGTON])
    may = (tmp_path / "bia" / "2024-05" / "kensington-market-bia.html").read_text("utf-8")
    assert "<dt>Quarter to date</dt>" in may and "Q2 2024: April to May" in may


def test_the_on_time_basis_and_the_311_contact_are_on_the_page(built: dict) -> None:
    html = (built["out"] / "kensington-market-bia.html").read_text("utf-8")
    # K5 and K6 (potholes) have the fixture's standard: 1 of 2 on time
    assert "of the 2 closed with a service standard" in html
    assert "The standards are City of Toronto’s, one per request type, in calendar or business days" in html
    assert "illustrative" not in html  # the fixture's own standards (raw/reference)
    assert ('<div class="contact"><dt>Your 311 contact</dt><dd>Ana Lima, BIA Liaison, <span class="nowrap">'
            '416-555-0100</span>, <a href="mailto:ana.lima@example.org">ana.lima@example.org</a></dd></div>') in html
    # a BIA bia_liaisons.csv does not list names the service's public mailbox
    other = (built["out"] / "baby-point-gates-bia.html").read_text("utf-8")
    assert "<dt>Your 311 contact</dt><dd>311 Toronto Customer Experience Division, " in other
    assert 'href="mailto:311@toronto.ca"' in other


def test_a_bia_report_on_a_phone(built: dict) -> None:
    """At 360 and 320 px: the trend chart's text at least 12 px, every wide table in a focusable,
    labelled region with a visible cue, the header's values beside their labels."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = a11y.launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name in ("kensington-market-bia.html", "index.html"):
            page.goto((built["out"] / name).as_uri())
            for width in (1280, 360, 320):
                assert a11y.layout_problems(page, width) == [], (name, width)
            page.set_viewport_size({"width": 1280, "height": 900})
        browser.close()
