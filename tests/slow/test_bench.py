"""The benchmark machinery (benchmarks/bench.py) at a tiny scale: stages measured in their own
processes, the floor query agrees with the warehouse's marts and with plain row counts, and the
incremental reruns load only what changed. No timing thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks import bench
from pipeline.demo.dataset import ROW_GROUP_ROWS

SCALE = 0.002


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    # report rendering, BIA and the end-to-end rerun are slow and measured by `make bench`
    bench.run(SCALE, out, skip=("report", "bia", "e2e"), verbose=False)
    return json.loads((out / f"{bench.scale_name(SCALE)}.json").read_text(encoding="utf-8")), out


def test_every_stage_has_positive_wall_time_and_rss(result: tuple[dict, Path]) -> None:
    data, _ = result
    measured = [s for s in data["stages"] if s["status"] not in ("skipped", "not available yet", "reused")]
    names = {s["name"] for s in measured}
    assert {
        "generate demo data",
        "floor: DuckDB query on the Parquet files",
        "copy floor: DuckDB copies the Parquet files into tables",
        "load",
        "dbt build",
        "rerun, nothing new: load",
        "rerun, nothing new: dbt build",
        "one new month: load",
        "one new month: dbt build",
        "mapped load: contract CSV",
        "mapped load: through a mapping",
    } <= names
    for stage in measured:
        assert stage["status"] == "ok", stage
        assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0, stage
        assert stage["vs_floor"] > 0, stage
    skipped = {s["name"]: s["status"] for s in data["stages"] if "wall_s" not in s}
    assert skipped["key metrics"] == "skipped"
    assert data["floor"]["query_s"] > 0 and data["floor"]["peak_rss_mb"] > 0
    assert data["totals"]["load_dbt_cold"]["wall_s"] > 0
    assert data["copy_floor_s"] > 0 and data["totals"]["load_dbt_cold"]["vs_copy_floor"] > 0
    copy = next(s for s in measured if s["group"] == "copy_floor")
    assert copy["info"]["rows"] == sum(data["rows"].values())  # every generated row was copied
    assert data["budgets"] == [] and data["budget_note"] == bench.NO_BUDGET  # no budgets at this scale
    assert f"| {bench.NO_BUDGET} |" in bench.table(data)
    assert skipped["BIA PDF floor: bare WeasyPrint, one BIA report"] == "skipped"
    assert data["bia_pdf"] is None
    assert "| load |" in bench.table(data)


def made_up_stages(with_e2e: bool = True) -> tuple[list[dict], dict]:
    """Stages and totals as ``run`` records them, with invented measurements."""
    stages = [
        {"name": "copy floor: DuckDB copies the Parquet files into tables", "group": "copy_floor",
         "status": "ok", "wall_s": 4.0, "inner_s": 3.0, "peak_rss_mb": 300.0, "info": {}},
        {"name": "BIA PDF floor: bare WeasyPrint, one BIA report", "group": "bia_floor", "status": "ok",
         "wall_s": 6.0, "peak_rss_mb": 200.0,
         "info": {"pdf_median_s": 0.4, "pdf_seconds": [0.4] * 5, "bia": "Some BIA", "service_requests": 90}},
        {"name": "BIA batch 2024-07 (python -m pipeline bia)", "group": "bia", "status": "ok",
         "wall_s": 15.0, "peak_rss_mb": 500.0,
         "info": {"stage_timings_s": {}, **bench.bia_cli_figures(BIA_OUTPUT)}},
    ]
    stages += [
        {"name": bench.RERUN_REPORT, "group": "rerun_report", "status": "ok", "wall_s": 1.5,
         "peak_rss_mb": 300.0, "info": {"stage_timings_s": {}, **bench.reuse_figures(RERUN_OUTPUT)}},
        {"name": bench.PREVIEW_STAGE, "group": "preview", "status": "ok", "wall_s": 4.0, "inner_s": 0.04,
         "peak_rss_mb": 300.0, "info": {"render_seconds": [0.04] * 5}},
    ]
    if with_e2e:
        stages.append({"name": bench.E2E_STAGE, "group": "e2e", "status": "ok", "wall_s": 11.0,
                       "peak_rss_mb": 5000.0, "info": {}})
    totals = {"load_dbt_cold": {"wall_s": 9.0, "peak_rss_mb": 1000.0, "vs_floor": 13.0,
                                "vs_copy_floor": 3.0},
              "one_new_month_load_dbt": {"wall_s": 2.5, "peak_rss_mb": 900.0, "vs_floor": 3.6},
              "report_stages": None, "rerun_nothing_new_load_dbt": None}
    return stages, totals


RERUN_OUTPUT = """render: 0.5 s
  reused the published PDF (its HTML and what it embeds are unchanged): b.pdf, a.pdf
  laid out: none
wrote x
"""


def test_what_a_report_run_reused() -> None:
    assert bench.reuse_figures(RERUN_OUTPUT) == {"reused": ["b.pdf", "a.pdf"], "laid_out": []}
    assert bench.reuse_figures("render: 8.0 s\n") == {"reused": [], "laid_out": []}
    sentence = RERUN_OUTPUT.replace(": b.pdf, a.pdf", ": b.pdf").replace("laid out: none", "laid out: c.pdf")
    assert bench.reuse_figures(sentence) == {"reused": ["b.pdf"], "laid_out": ["c.pdf"]}


BIA_OUTPUT = """load: 0.3 s
BIA reports for 2024-07: 79 rendered, 0 failed, in 12.5 s
  render time per report: median 0.60 s, max 0.95 s
  output: /tmp/x/bia/2024-07
"""


def test_budget_rows_are_chosen_by_scale() -> None:
    stages, totals = made_up_stages()
    measures = bench.budget_measures(stages, totals)
    one = bench.budget_rows(1, measures)
    assert [b["name"] for b in one] == [
        "cold end-to-end report (python -m pipeline report)",
        "load + dbt build (cold) vs the copy floor",
        "one new month: load + dbt build",
        "BIA batch for one month",
        "load of the year's SRs through a mapping vs the same rows as contract CSV",
        "rerun, nothing new: python -m pipeline report",
        "preview: the documents' HTML rendered again after a save",
    ]
    # the made-up stages have no mapped load: that budget is neither met nor missed
    assert [(b["limit"], b["measured"], b["met"]) for b in one] == [
        (12.0, 11.0, True), (2.5, 3.0, False), (3.0, 2.5, True), (12.0, 15.0, False),
        (1.5, None, None), (2.0, 1.5, True), (1.0, 0.04, True)]
    ten = {b["name"]: b for b in bench.budget_rows(10.0, measures)}
    assert ten["peak memory of the cold end-to-end report"]["limit"] == 4096.0
    assert ten["peak memory of the cold end-to-end report"]["met"] is False
    assert ten["BIA batch for one month"]["limit"] == 20.0
    assert bench.budget_rows(3, measures) == []
    assert bench.budget_table({"budgets": [], "budget_note": bench.NO_BUDGET})[-1].startswith(
        f"| {bench.NO_BUDGET} |")
    # a skipped end-to-end run is not measured: its budgets are neither met nor missed
    unmeasured = bench.budget_rows(10, bench.budget_measures(*made_up_stages(with_e2e=False)))
    assert [(b["measured"], b["met"]) for b in unmeasured if "end-to-end" in b["name"]] == [(None, None)] * 2
    assert "| BIA batch for one month | 12.0 s | 15.0 s | **no** |" in bench.budget_table({"budgets": one})


def test_bia_batch_per_pdf_against_the_pdf_floor() -> None:
    stages, _ = made_up_stages()
    assert bench.bia_cli_figures(BIA_OUTPUT) == {"pdfs": 79, "failed": 0, "batch_s": 12.5,
                                                 "per_pdf_median_s": 0.6, "per_pdf_max_s": 0.95}
    again = BIA_OUTPUT.replace("  output:", "  PDFs reused from the published set (their HTML and what it embeds "
                               "are unchanged): 78; laid out again: a-bia.pdf\n  output:")
    assert bench.bia_cli_figures(again)["pdfs_reused"] == 78 and bench.bia_cli_figures(again)["laid_out"] == ["a-bia.pdf"]
    c = bench.bia_pdf_comparison(stages, workers=2)
    assert (c["per_pdf_s"], c["floor_s"], c["vs_floor"], c["floor_bia"]) == (0.6, 0.4, 1.5, "Some BIA")
    assert bench.bia_pdf_note(c) == "per-PDF median 0.60 s vs bare WeasyPrint floor 0.40 s (1.5×)"
    # without the CLI's median: the batch's wall time × workers / PDFs, and the note says so
    del stages[2]["info"]["per_pdf_median_s"]
    c = bench.bia_pdf_comparison(stages, workers=2)
    assert c["per_pdf_s"] == round(15.0 * 2 / 79, 3) and "workers" in c["per_pdf_source"]
    assert "batch wall time × 2 workers / 79 PDFs" in bench.bia_pdf_note(c)
    assert bench.bia_pdf_comparison(stages[:2]) is None  # no batch, nothing to compare


def test_bia_pdf_floor_renders_the_busiest_bia(result: tuple[dict, Path]) -> None:
    _, out = result
    base = out / bench.scale_name(SCALE)
    floor = bench.bia_pdf_floor(base / "work" / "warehouse.duckdb", base / "raw", bench.BIA_MONTH, repeats=2)
    assert len(floor["pdf_seconds"]) == 2 and floor["pdf_median_s"] > 0 and floor["html_chars"] > 0
    job = bench.busiest_bia_job(base / "work" / "warehouse.duckdb", base / "raw", bench.BIA_MONTH)
    assert floor["bia"] == job["record"]["bia_name"]
    assert job["generated_from"] and all("service_requests" in f for f in job["generated_from"])


def test_reruns_load_only_what_changed(result: tuple[dict, Path]) -> None:
    data, _ = result
    stage = {s["name"]: s for s in data["stages"]}
    assert len(stage["load"]["info"]["files_loaded"]) == 6
    assert stage["dbt build"]["info"]["dbt_ran"] is True
    assert stage["rerun, nothing new: load"]["info"]["files_loaded"] == []
    assert stage["rerun, nothing new: load"]["info"]["files_skipped"] == 6
    assert stage["rerun, nothing new: dbt build"]["info"]["dbt_ran"] is False
    assert sorted(stage["one new month: load"]["info"]["files_loaded"]) == [
        "2025/interactions_2025-01.parquet",
        "2025/service_requests_2025-01.parquet",
    ]
    assert stage["one new month: load"]["info"]["files_skipped"] == 6
    assert stage["one new month: dbt build"]["info"]["dbt_ran"] is True


def test_floor_gives_the_marts_headline_figures(result: tuple[dict, Path]) -> None:
    data, out = result
    assert data["floor_matches_marts"], data["floor_vs_marts_differences"]
    raw = out / bench.scale_name(SCALE) / "raw"
    db = out / bench.scale_name(SCALE) / "work" / "warehouse.duckdb"
    floor = data["floor"]["headline"]
    marts = bench.headline_from_warehouse(db, [2023, 2024])
    assert bench.headlines_match(floor, marts) == []
    # hand check against the generated Parquet files, counted by DuckDB directly
    with duckdb.connect() as con:
        for year in (2023, 2024):
            folder = raw / str(year)
            n_int = con.execute(
                f"SELECT count(*) FROM '{folder}/interactions_{year}.parquet' WHERE year(started_at) = {year}"
            ).fetchone()[0]
            n_sr = con.execute(
                f"SELECT count(*) FILTER (WHERE status <> 'cancelled'), count(*) FILTER (WHERE status = 'cancelled') "
                f"FROM '{folder}/service_requests_{year}.parquet' WHERE year(created_at) = {year}"
            ).fetchone()
            phone = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE outcome = 'answered') "
                f"FROM '{folder}/interactions_{year}.parquet' "
                f"WHERE channel = 'phone' AND outcome IN ('answered', 'abandoned')"
            ).fetchone()
            y = floor[str(year)]
            assert n_int > 0 and n_sr[0] > 0
            assert y["interactions"]["total"] == n_int == marts[str(year)]["interactions"]["total"]
            assert sum(y["interactions"]["by_channel"].values()) == n_int
            assert sum(y["interactions"]["by_type"].values()) == n_int
            assert (y["service_requests"]["total"], y["service_requests"]["cancelled"]) == n_sr
            assert (y["phone"]["offered"], y["phone"]["answered"]) == phone
            assert y["service_requests"]["top_types"][0][1] >= y["service_requests"]["top_types"][-1][1]


def test_generated_data_is_reused_and_extra_month_is_not_left_behind(result: tuple[dict, Path],
                                                                    tmp_path: Path) -> None:
    _, out = result
    base = out / bench.scale_name(SCALE)
    assert bench.demo_matches(base / "raw", SCALE, 311)
    assert not bench.demo_matches(base / "raw", SCALE * 2, 311)
    # a set written with larger row groups (an older generator) is generated again
    old = tmp_path / "raw"
    bench.link_tree(base / "raw", old)
    first = old / "2023" / "interactions_2023.parquet"
    table = pq.read_table(first)
    big = pa.concat_tables([table] * (ROW_GROUP_ROWS // table.num_rows + 1))  # > ROW_GROUP_ROWS rows
    first.unlink()  # a hard link: write a new file, leave the shared one alone
    pq.write_table(big, first, row_group_size=big.num_rows)
    assert pq.read_metadata(first).row_group(0).num_rows > ROW_GROUP_ROWS
    assert not bench.demo_matches(old, SCALE, 311)
    assert not (base / "raw" / "2025").exists()
    assert not (base / "raw_plus_month").exists()


def test_extra_month_shifts_a_week_with_new_ids(tmp_path: Path, result: tuple[dict, Path]) -> None:
    _, out = result
    plus = tmp_path / "raw"
    bench.link_tree(out / bench.scale_name(SCALE) / "raw", plus)
    files = bench.write_extra_month(plus, days=3)
    with duckdb.connect() as con:
        lo, hi, ids = con.execute(
            f"SELECT min(started_at), max(started_at), count(*) FILTER (WHERE interaction_id LIKE '%2024-%') "
            f"FROM '{files[0]}'"
        ).fetchone()
        assert str(lo) >= "2025-01-01" and str(hi) < "2025-01-04" and ids == 0
        created = con.execute(f"SELECT min(created_at), max(created_at) FROM '{files[1]}'").fetchone()
        assert str(created[0]) >= "2025-01-01" and str(created[1]) < "2025-01-04"
