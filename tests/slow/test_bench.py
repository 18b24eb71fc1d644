"""The benchmark machinery (benchmarks/) at a tiny scale: stages measured in their own processes,
the floors ran (the dbt no-op build ran no node, the render floor laid out the report's own
print HTML), the floor query agrees with the warehouse's marts and with plain row counts, the
incremental reruns load only what changed, where dbt's time goes adds up, and the regression
report fires against a made-up baseline. No timing thresholds. The pure arithmetic (budgets,
ratios, the README's tables) is tested in tests/unit/test_bench_arithmetic.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks import bench, floors, names
from benchmarks.baseline import regression_lines, regressions
from benchmarks.data import demo_matches, link_tree, write_extra_month
from benchmarks.runner import bia_cli_figures, reuse_figures
from benchmarks.tables import table
from pipeline.demo.dataset import ROW_GROUP_ROWS

SCALE = 0.002


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    # report rendering, BIA and the end-to-end rerun are slow and measured by `make bench`
    bench.run(SCALE, out, skip=("report", "bia", "e2e"), verbose=False)
    return json.loads((out / f"{names.scale_name(SCALE)}.json").read_text(encoding="utf-8")), out


def test_every_stage_has_positive_wall_time_and_rss(result: tuple[dict, Path]) -> None:
    data, _ = result
    measured = [s for s in data["stages"] if s["status"] not in ("skipped", "not available yet", "reused")]
    stage_names = {s["name"] for s in measured}
    assert {
        "generate demo data",
        names.QUERY_FLOOR_STAGE,
        names.COPY_FLOOR_STAGE,
        names.LOAD_STAGE,
        names.DBT_STAGE,
        names.DBT_NOOP_STAGE,
        names.DBT_UNIT_STAGE,
        "rerun, nothing new: load",
        "rerun, nothing new: dbt build",
        names.MONTH_LOAD_STAGE,
        names.MONTH_DBT_STAGE,
        names.MAPPED_CSV_STAGE,
        names.MAPPED_STAGE,
    } <= stage_names
    for stage in measured:
        assert stage["status"] == "ok", stage
        assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0, stage
        assert stage["vs_floor"] > 0, stage
    skipped = {s["name"]: s["status"] for s in data["stages"] if "wall_s" not in s}
    assert skipped["key metrics"] == "skipped"
    assert skipped[names.RENDER_FLOOR_STAGE] == "skipped"  # with the report's stages
    assert data["floor"]["query_s"] > 0 and data["floor"]["peak_rss_mb"] > 0
    assert data["totals"]["load_dbt_cold"]["wall_s"] > 0
    assert data["copy_floor_s"] > 0 and data["totals"]["load_dbt_cold"]["vs_copy_floor"] > 0
    copy = next(s for s in measured if s["group"] == "copy_floor")
    assert copy["info"]["rows"] == sum(data["rows"].values())  # every generated row was copied
    assert data["budgets"] == [] and data["budget_note"] == names.NO_BUDGET  # no budgets at this scale
    assert f"| {names.NO_BUDGET} |" in table(data)
    assert skipped[names.BIA_FLOOR_STAGE] == "skipped"
    assert data["bia_pdf"] is None
    assert "| load |" in table(data)


def test_each_stage_is_divided_by_the_floor_it_names(result: tuple[dict, Path]) -> None:
    data, _ = result
    fl = data["floors"]
    stage = {s["name"]: s for s in data["stages"]}
    assert fl["copy"] == stage[names.COPY_FLOOR_STAGE]["inner_s"] == data["copy_floor_s"]
    assert fl["dbt_noop"] == stage[names.DBT_NOOP_STAGE]["inner_s"] > 0
    # the render floor, the report's and the BIA batch's were skipped with their stages
    assert fl["render"] is None and fl["report"] is None and fl["bia_batch"] is None
    for name, floor in ((names.LOAD_STAGE, "copy"), (names.DBT_STAGE, "dbt_noop"),
                        (names.MONTH_DBT_STAGE, "dbt_noop"), (names.DBT_NOOP_STAGE, "query")):
        s = stage[name]
        assert s["floor"] == floor
        assert s["vs_own_floor"] == pytest.approx(s["wall_s"] / fl[floor], rel=1e-3)
    assert "vs_own_floor" not in stage["generate demo data"]  # set-up: no floor


def test_the_dbt_noop_build_ran_no_node(result: tuple[dict, Path]) -> None:
    data, out = result
    noop = next(s for s in data["stages"] if s["name"] == names.DBT_NOOP_STAGE)
    assert noop["info"]["nodes"] == 0 and noop["info"]["nothing_to_do"] is True
    results = json.loads((out / names.scale_name(SCALE) / "dbt_noop" / "dbt_target" / "run_results.json")
                         .read_text(encoding="utf-8"))
    assert results["results"] == []


def test_where_dbts_time_goes_adds_up(result: tuple[dict, Path]) -> None:
    data, _ = result
    dbt = data["dbt_time"]
    assert list(dbt) == ["cold dbt build", "one new month", "unit tests"]
    cold = dbt["cold dbt build"]
    stage = next(s for s in data["stages"] if s["name"] == names.DBT_STAGE)
    info = stage["info"]["dbt"]
    # the parts are differences of what was measured: wall − in-process − run_dbt − dbt's run
    assert cold["python_start_s"] == pytest.approx(stage["wall_s"] - stage["inner_s"], abs=2e-3)
    assert cold["around_dbt_s"] == pytest.approx(stage["inner_s"] - info["run_dbt_s"], abs=2e-3)
    assert cold["dbt_outside_run_s"] == pytest.approx(info["run_dbt_s"] - info["elapsed_s"], abs=2e-3)
    assert cold["noop_floor_s"] == data["floors"]["dbt_noop"]
    assert 0 < cold["dbt_run_s"] < info["run_dbt_s"] < stage["wall_s"]
    assert cold["event_loop_cpu_s"] >= 0 and cold["log_lines"] > 0 and cold["dbt_cpu_s"] > 0
    # every node of the build is in one kind; the production build runs no unit test
    kinds = cold["kinds"]
    assert {"model", "test", "seed"} <= set(kinds) and "unit_test" not in kinds
    nodes = stage["info"]["slowest_nodes"][-1]
    assert nodes[0] == "nodes" and sum(k["nodes"] for k in kinds.values()) == nodes[1]
    for k in kinds.values():
        assert k["execution_s"] >= 0 and k["compile_s"] >= 0 and k["execute_s"] >= 0
    # the unit tests ran once, on their own
    unit = dbt["unit tests"]["kinds"]
    assert unit["unit_test"]["nodes"] > 0 and set(unit) <= {"unit_test", "operation"}
    assert "| where dbt's time goes | cold dbt build | one new month | unit tests |" in table(data)


def test_the_regression_report_against_a_made_up_baseline(result: tuple[dict, Path]) -> None:
    data, _ = result
    baseline = copy.deepcopy(data)
    by_name = {s["name"]: s for s in baseline["stages"]}
    # the baseline's ratios: dbt build 20% lower (so this run's is 20% higher), load 10% lower
    by_name[names.DBT_STAGE]["vs_own_floor"] = by_name[names.DBT_STAGE]["vs_own_floor"] / 1.2
    by_name[names.LOAD_STAGE]["vs_own_floor"] = by_name[names.LOAD_STAGE]["vs_own_floor"] / 1.1
    report = regressions(data, baseline, "made-up.json")
    assert [g["name"] for g in report["grew"]] == [names.DBT_STAGE]
    assert report["grew"][0]["growth"] == pytest.approx(0.2, abs=1e-3)
    assert report["compared"] == sum(1 for s in data["stages"] if s.get("vs_own_floor"))
    assert regression_lines(report)[1].startswith(f"  REGRESSION {names.DBT_STAGE}: ")
    # against itself nothing grew, and the run said so in its JSON (no baseline at this scale)
    assert regressions(data, data, "same.json")["grew"] == []
    assert data["regressions"]["baseline"] is None and data["regressions"]["grew"] == []


def test_the_render_floor_lays_out_the_reports_own_html(result: tuple[dict, Path], tmp_path: Path) -> None:
    _, out = result
    base = out / names.scale_name(SCALE)
    db, raw = base / "work" / "warehouse.duckdb", base / "raw"
    inputs = floors.render_floor_inputs(db, raw, names.YEAR, tmp_path / "html")
    assert sorted(p.name for p in (tmp_path / "html").iterdir()) == ["annual.html", "appendix_a.html",
                                                                     "appendix_b.html"]
    # the layout keys of the PDFs a report lays out from the same warehouse: the same HTML
    from pipeline.metrics import key_metrics
    from pipeline.report import render_annual_report, report_meta
    from pipeline.report.pdf import Layouts

    layouts = Layouts()
    render_annual_report(key_metrics(db, names.YEAR), report_meta(raw, db, names.YEAR), tmp_path / "report",
                         layouts=layouts)
    assert inputs["layout_keys"] == layouts.keys and len(layouts.keys) == 3
    floor = floors.render_floor(tmp_path / "html", db, names.YEAR)
    assert floor["documents"] == 3 and floor["workers"] >= 1 and floor["pdf_bytes"] > 0
    assert floor["charts"] > 0 and floor["layout_s"] > 0 and floor["charts_s"] > 0
    assert floor["inner_s"] == pytest.approx(floor["layout_s"] + floor["charts_s"], abs=2e-3)


BIA_OUTPUT = """load: 0.3 s
BIA reports for 2024-07: 79 rendered, 0 failed, in 12.5 s
  render time per report: median 0.60 s, max 0.95 s
  output: /tmp/x/bia/2024-07
"""
RERUN_OUTPUT = """render: 0.5 s
  reused the published PDF (its HTML and what it embeds are unchanged): b.pdf, a.pdf
  laid out: none
wrote x
"""


def test_what_the_cli_runs_printed() -> None:
    assert reuse_figures(RERUN_OUTPUT) == {"reused": ["b.pdf", "a.pdf"], "laid_out": []}
    assert reuse_figures("render: 8.0 s\n") == {"reused": [], "laid_out": []}
    sentence = RERUN_OUTPUT.replace(": b.pdf, a.pdf", ": b.pdf").replace("laid out: none", "laid out: c.pdf")
    assert reuse_figures(sentence) == {"reused": ["b.pdf"], "laid_out": ["c.pdf"]}
    assert bia_cli_figures(BIA_OUTPUT) == {"pdfs": 79, "failed": 0, "batch_s": 12.5,
                                           "per_pdf_median_s": 0.6, "per_pdf_max_s": 0.95}
    again = BIA_OUTPUT.replace("  output:", "  PDFs reused from the published set (their HTML and what it embeds "
                               "are unchanged): 78; laid out again: a-bia.pdf\n  output:")
    assert bia_cli_figures(again)["pdfs_reused"] == 78 and bia_cli_figures(again)["laid_out"] == ["a-bia.pdf"]


def test_bia_pdf_floor_renders_the_busiest_bia(result: tuple[dict, Path]) -> None:
    _, out = result
    base = out / names.scale_name(SCALE)
    floor = floors.bia_pdf_floor(base / "work" / "warehouse.duckdb", base / "raw", names.BIA_MONTH, repeats=2)
    assert len(floor["pdf_seconds"]) == 2 and floor["pdf_median_s"] > 0 and floor["html_chars"] > 0
    job = floors.busiest_bia_job(base / "work" / "warehouse.duckdb", base / "raw", names.BIA_MONTH)
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
    raw = out / names.scale_name(SCALE) / "raw"
    db = out / names.scale_name(SCALE) / "work" / "warehouse.duckdb"
    floor = data["floor"]["headline"]
    marts = floors.headline_from_warehouse(db, [2023, 2024])
    assert floors.headlines_match(floor, marts) == []
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
    base = out / names.scale_name(SCALE)
    assert demo_matches(base / "raw", SCALE, 311)
    assert not demo_matches(base / "raw", SCALE * 2, 311)
    # a set written with larger row groups (an older generator) is generated again
    old = tmp_path / "raw"
    link_tree(base / "raw", old)
    first = old / "2023" / "interactions_2023.parquet"
    table = pq.read_table(first)
    big = pa.concat_tables([table] * (ROW_GROUP_ROWS // table.num_rows + 1))  # > ROW_GROUP_ROWS rows
    first.unlink()  # a hard link: write a new file, leave the shared one alone
    pq.write_table(big, first, row_group_size=big.num_rows)
    assert pq.read_metadata(first).row_group(0).num_rows > ROW_GROUP_ROWS
    assert not demo_matches(old, SCALE, 311)
    assert not (base / "raw" / "2025").exists()
    assert not (base / "raw_plus_month").exists()


def test_extra_month_shifts_a_week_with_new_ids(tmp_path: Path, result: tuple[dict, Path]) -> None:
    _, out = result
    plus = tmp_path / "raw"
    link_tree(out / names.scale_name(SCALE) / "raw", plus)
    files = write_extra_month(plus, days=3)
    with duckdb.connect() as con:
        lo, hi, ids = con.execute(
            f"SELECT min(started_at), max(started_at), count(*) FILTER (WHERE interaction_id LIKE '%2024-%') "
            f"FROM '{files[0]}'"
        ).fetchone()
        assert str(lo) >= "2025-01-01" and str(hi) < "2025-01-04" and ids == 0
        created = con.execute(f"SELECT min(created_at), max(created_at) FROM '{files[1]}'").fetchone()
        assert str(created[0]) >= "2025-01-01" and str(created[1]) < "2025-01-04"


def test_the_floors_and_the_load_keep_the_median_of_their_runs(result: tuple[dict, Path]) -> None:
    data, _ = result
    for name in (names.COPY_FLOOR_STAGE, names.LOAD_STAGE, names.DBT_NOOP_STAGE):
        kept = next(s for s in data["stages"] if s["name"] == name)
        times = sorted(r.get("inner_s", r["wall_s"]) for r in kept["info"]["runs"])
        assert len(times) == bench.REPEATS == 3
        assert kept.get("inner_s", kept["wall_s"]) == times[1]  # the middle one
    # each load started from an empty folder: every run loaded every file
    load = next(s for s in data["stages"] if s["name"] == names.LOAD_STAGE)
    assert load["info"]["files_skipped"] == 0 and len(load["info"]["files_loaded"]) == 6
