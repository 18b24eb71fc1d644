"""The bench's arithmetic on made-up stages (no process, no dbt, no WeasyPrint): the floors'
values, each stage's ratio to its floor, the budgets, the regression report against a
baseline, where dbt's time goes, and the README's tables made from the committed baselines."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from benchmarks import readme
from benchmarks.baseline import regression_lines, regressions
from benchmarks.budgets import budget_measures, budget_rows
from benchmarks.dbt_time import breakdown, node_kinds
from benchmarks.names import DBT_NOOP_STAGE, DBT_STAGE, E2E_STAGE, LOAD_STAGE, MAPPED_CSV_STAGE, MAPPED_STAGE
from benchmarks.ratios import (
    bia_pdf_comparison,
    bia_pdf_note,
    cpu_against_floors,
    floor_values,
    own_floor_ratios,
    stage_totals,
)
from benchmarks.tables import budget_table, cpu_note, dbt_time_table, stage_notes, stage_table


def stage(name: str, group: str, floor: str | None, wall: float, inner: float | None = None,
          peak: float = 500.0, **info: object) -> dict:
    s = {"name": name, "group": group, "floor": floor, "status": "ok", "wall_s": wall, "peak_rss_mb": peak,
         "info": dict(info)}
    if inner is not None:
        s["inner_s"] = inner
    return s


def made_up() -> list[dict]:
    """A run's stages, with invented measurements."""
    return [
        stage("copy floor", "copy_floor", "query", 4.0, 3.0),
        stage(DBT_NOOP_STAGE, "dbt_noop_floor", "query", 6.0, 5.0),
        stage("render floor", "render_floor", "query", 9.0, 8.0, layout_s=6.5, charts_s=1.5, documents=3,
              workers=2, charts=14),
        stage("BIA PDF floor", "bia_floor", "query", 5.0, pdf_median_s=0.5, pdf_seconds=[0.5] * 5,
              bia="Some BIA", service_requests=90),
        stage(LOAD_STAGE, "report", "copy", 6.0, 5.5),
        stage(DBT_STAGE, "report", "dbt_noop", 15.0, 14.0),
        stage("BIA batch", "bia", "bia_batch", 24.0, pdfs=80, workers=2),
        stage("one new month: load", "month", "copy", 1.0),
        stage("one new month: dbt build", "month", "dbt_noop", 9.0),
        stage(MAPPED_CSV_STAGE, "mapped", "copy", 3.0, 2.0),
        stage(MAPPED_STAGE, "mapped", "copy", 3.5, 2.5),
        stage("rerun, nothing new: python -m pipeline report", "rerun_report", "render", 1.5),
        stage("preview: the HTML rendered again after a narrative save (median of 5)", "preview", "render",
              4.0, 0.04),
        stage(E2E_STAGE, "e2e", "report", 24.0, peak=5000.0),
    ]


def test_floors_and_each_stages_ratio_to_its_floor() -> None:
    stages = made_up()
    floors = floor_values(stages, 0.8)
    # report = copy 3 + no-op 5 + render 8 = 16 s; BIA batch = 80 BIAs × 0.5 s ÷ 2 workers = 20 s
    assert floors == {"query": 0.8, "copy": 3.0, "dbt_noop": 5.0, "render": 8.0, "report": 16.0,
                      "bia_batch": 20.0}
    own_floor_ratios(stages, floors)
    ratio = {s["name"]: s["vs_own_floor"] for s in stages}
    assert ratio[LOAD_STAGE] == 2.0          # 6 s ÷ copy floor 3 s
    assert ratio[DBT_STAGE] == 3.0           # 15 s ÷ no-op build 5 s
    assert ratio[E2E_STAGE] == 1.5           # 24 s ÷ 16 s
    assert ratio["BIA batch"] == 1.2         # 24 s ÷ 20 s
    assert ratio["copy floor"] == 5.0        # 4 s ÷ query floor 0.8 s
    # a floor that was not measured gives no ratio, and no report floor
    without_render = [s for s in made_up() if s["group"] != "render_floor"]
    floors = floor_values(without_render, 0.8)
    assert floors["render"] is None and floors["report"] is None
    own_floor_ratios(without_render, floors)
    assert "vs_own_floor" not in next(s for s in without_render if s["name"] == E2E_STAGE)


def with_cpu(stages: list[dict]) -> list[dict]:
    """The stages with the CPU (user + system) of the report's floor's parts and of the end to end."""
    cpu = {"copy floor": 7.0, DBT_NOOP_STAGE: 6.0, "render floor": 11.0, E2E_STAGE: 42.0}
    for s in stages:
        if s["name"] in cpu:
            s["cpu_s"] = cpu[s["name"]]
    return stages


def test_the_cold_reports_cpu_against_the_floors() -> None:
    cpu = cpu_against_floors(with_cpu(made_up()))
    # floors: copy 7 + no-op 6 + render 11 = 24 CPU-s in 4 + 6 + 9 = 19 s of wall time; the report
    # 42 CPU-s in 24 s: 42 ÷ 24 = 1.75× the floors' CPU, 1.75 cores busy; the floors 24 ÷ 19 = 1.26
    assert cpu == {"e2e_cpu_s": 42.0, "floors_cpu_s": 24.0,
                   "parts_cpu_s": {"copy_floor": 7.0, "dbt_noop_floor": 6.0, "render_floor": 11.0},
                   "vs_floors": 1.75, "e2e_cores_busy": 1.75, "floors_cores_busy": 1.26}
    assert cpu_note(cpu, 2) == (
        "cold report's CPU (user + system) 42.0 s = 1.75 × the floors' 24.0 s (copy floor 7.0 + dbt no-op "
        "build 6.0 + render floor 11.0); cores kept busy on average: the report 1.75, the floors 1.26 (of 2)")
    # a part not measured (or measured without its CPU) gives no comparison
    assert cpu_against_floors(made_up()) is None
    assert cpu_against_floors([s for s in with_cpu(made_up()) if s["group"] != "render_floor"]) is None


def _budgets(scale: float) -> dict[str, tuple]:
    stages = made_up()
    own_floor_ratios(stages, floor_values(stages, 0.8))
    totals = stage_totals(stages, 0.8, 3.0)
    return {b["key"]: (b["limit"], b["measured"], b["met"]) for b in budget_rows(scale, budget_measures(stages, totals))}


def test_budgets_by_scale() -> None:
    # SCALE=1: end to end 1.5× ≤ 1.5× (met: the limit is inclusive); BIA 1.2× > 1.15×; mapped
    # load 2.5 s ÷ 2.0 s in-process = 1.25×
    assert _budgets(1) == {"e2e_vs_floors": (1.5, 1.5, True), "bia_vs_floor": (1.15, 1.2, False),
                           "mapped_vs_csv": (1.5, 1.25, True), "rerun_report_s": (2.0, 1.5, True),
                           "preview_render_s": (1.0, 0.04, True)}
    # SCALE=10: load 2.0× > 1.6×; end to end 24 s ≤ 100 s but 5000 MB > 4096 MB; one new month
    # 1 + 9 = 10 s ≤ 15 s
    assert _budgets(10) == {"load_vs_copy_floor": (1.6, 2.0, False), "e2e_s": (100.0, 24.0, True),
                            "peak_mb": (4096.0, 5000.0, False), "new_month_s": (15.0, 10.0, True),
                            "preview_render_s": (1.0, 0.04, True)}
    assert _budgets(3) == {}


def test_a_skipped_stage_is_neither_met_nor_missed() -> None:
    stages = [s for s in made_up() if s["name"] != E2E_STAGE]
    own_floor_ratios(stages, floor_values(stages, 0.8))
    rows = budget_rows(10, budget_measures(stages, stage_totals(stages, 0.8, 3.0)))
    assert [(b["measured"], b["met"]) for b in rows if b["key"] in ("e2e_s", "peak_mb")] == [(None, None)] * 2
    lines = budget_table({"budgets": rows})
    assert "| cold end to end (python -m pipeline report) | ≤ 100 s | – | – |" in lines
    assert "| load vs the copy floor | ≤ 1.6× | 2.00× | **no** |" in lines


def with_ratios() -> dict:
    stages = made_up()
    own_floor_ratios(stages, floor_values(stages, 0.8))
    return {"stages": stages}


def test_the_regression_report_fires_at_20_percent_not_at_10() -> None:
    baseline, current = with_ratios(), with_ratios()
    by_name = {s["name"]: s for s in current["stages"]}
    by_name[DBT_STAGE]["vs_own_floor"] = 3.6   # baseline 3.0: +20%
    by_name[LOAD_STAGE]["vs_own_floor"] = 2.2  # baseline 2.0: +10%
    report = regressions(current, baseline, "benchmarks/baseline/1.json")
    assert report["compared"] == len(current["stages"])
    assert [(g["name"], g["baseline_ratio"], g["ratio"], round(g["growth"], 2)) for g in report["grew"]] == [
        (DBT_STAGE, 3.0, 3.6, 0.2)]
    lines = regression_lines(report)
    assert lines[1] == f"  REGRESSION {DBT_STAGE}: 3.60× the dbt no-op build, was 3.00× (+20%)"
    # 10% alone is not a regression: the report says none grew
    by_name[DBT_STAGE]["vs_own_floor"] = 3.3
    report = regressions(current, baseline, "benchmarks/baseline/1.json")
    assert report["grew"] == []
    assert regression_lines(report) == [
        f"against benchmarks/baseline/1.json: no stage's ratio to its floor grew by more than 15% "
        f"({len(current['stages'])} stages compared)"]
    # a stage measured against another floor than the baseline's is not compared
    by_name[DBT_STAGE]["floor"], by_name[DBT_STAGE]["vs_own_floor"] = "query", 30.0
    assert regressions(current, baseline)["compared"] == len(current["stages"]) - 1
    assert regression_lines(regressions(current, None)) == [
        "no baseline of this scale (benchmarks/baseline/): nothing compared"]


RUN_RESULTS = {
    "elapsed_time": 12.0,
    "results": [
        {"unique_id": "model.cx311.a", "execution_time": 1.0, "timing": [
            {"name": "compile", "started_at": "2026-12-07T10:00:00.000000Z", "completed_at": "2026-12-07T10:00:00.250000Z"},
            {"name": "execute", "started_at": "2026-12-07T10:00:00.250000Z", "completed_at": "2026-12-07T10:00:01.000000Z"}]},
        {"unique_id": "model.cx311.b", "execution_time": 2.0, "timing": [
            {"name": "compile", "started_at": "2026-12-07T10:00:00.000000Z", "completed_at": "2026-12-07T10:00:00.500000Z"},
            {"name": "execute", "started_at": "2026-12-07T10:00:00.500000Z", "completed_at": "2026-12-07T10:00:02.000000Z"}]},
        {"unique_id": "test.cx311.not_null_a_id", "execution_time": 0.5, "timing": []},
        {"unique_id": "seed.cx311.s", "execution_time": 0.25, "timing": []},
    ],
}


def test_where_dbts_time_goes() -> None:
    kinds = node_kinds(RUN_RESULTS)
    # models: 1.0 + 2.0 s, compile 0.25 + 0.5, execute 0.75 + 1.5
    assert kinds == {"model": {"nodes": 2, "execution_s": 3.0, "compile_s": 0.75, "execute_s": 2.25},
                     "test": {"nodes": 1, "execution_s": 0.5, "compile_s": 0.0, "execute_s": 0.0},
                     "seed": {"nodes": 1, "execution_s": 0.25, "compile_s": 0.0, "execute_s": 0.0}}
    dbt = stage(DBT_STAGE, "report", "dbt_noop", 20.0, 18.0, dbt={
        "run_dbt_s": 17.0, "event_loop_cpu_s": 0.3, "dbt_cpu_s": 16.0, "log_lines": 400,
        "elapsed_s": 12.0, "kinds": kinds})
    b = breakdown(dbt, 5.0)
    # start = 20 − 18; around dbt = 18 − 17; dbt outside its run = 17 − 12
    assert (b["python_start_s"], b["around_dbt_s"], b["dbt_outside_run_s"], b["dbt_run_s"]) == (2.0, 1.0, 5.0, 12.0)
    assert b["noop_floor_s"] == 5.0 and b["event_loop_cpu_s"] == 0.3
    assert breakdown({**dbt, "status": "failed"}, 5.0) is None
    lines = dbt_time_table({"cold dbt build": b})
    assert "| dbt outside its run: start, imports, parse, manifest (run_dbt − dbt's elapsed_time) | 5.00 s |" in lines
    assert "| … models: sum of execution_time (compile + execute), nodes | 3.00 s (0.75 + 2.25), 2 nodes |" in lines
    assert "| JSON log parsing: CPU of run_dbt's loop reading dbt's events | 0.30 s (400 lines) |" in lines


def made_up_result(scale: float) -> dict:
    stages = made_up()
    floors = floor_values(stages, 0.8)
    own_floor_ratios(stages, floors)
    totals = stage_totals(stages, 0.8, 3.0)
    return {"scale": scale, "measured_on": "2026-12-07", "commit": "abc1234", "engine": "duckdb",
            "machine": {"cpus": 2, "memory_gb": 23.4, "python": "3.11.2", "duckdb": "2.0.0"},
            "rows": {"interactions": 3_000_000, "service_requests": 500_000, "kb_views": 100_000},
            "floor": {"query_s": 0.8, "wall_s": 1.5, "peak_rss_mb": 102.4}, "floors": floors,
            "stages": stages, "totals": totals, "budgets": budget_rows(scale, budget_measures(stages, totals)),
            "dbt_time": {}}


def test_readme_tables_are_made_from_the_results(tmp_path: Path) -> None:
    results = {1.0: made_up_result(1.0), 10.0: made_up_result(10.0)}
    results[10.0]["stages"][4]["wall_s"] = 60.0  # load at SCALE=10
    stages = readme.stages_block(results)
    assert stages[0] == "| stage | its floor | SCALE=1 | SCALE=10 |"
    assert "| query floor: one DuckDB query on the Parquet files | – | 0.80 s, 0.1 GB | 0.80 s, 0.1 GB |" in stages
    # 6 s, 500 MB = 0.5 GB, 6 ÷ 3 = 2.00× (the ratio is the one measured: 60 s did not recompute it)
    assert "| load | copy floor | 6.00 s, 0.5 GB, 2.00× | 60.00 s, 0.5 GB, 2.00× |" in stages
    # a stage skipped at one scale still names its floor (the other scale's)
    results[1.0]["stages"][4] = {"name": LOAD_STAGE, "group": "report", "floor": None, "status": "skipped"}
    assert "| load | copy floor | skipped | 60.00 s, 0.5 GB, 2.00× |" in readme.stages_block(results)
    budgets = readme.budgets_block(results)
    assert budgets[0] == "| budget | limit | SCALE=1 | SCALE=10 |"
    assert "| load vs the copy floor | SCALE=10: ≤ 1.6× | – | 2.00×, **no** |" in budgets
    assert "| BIA batch vs (BIAs × per-PDF floor ÷ workers) | SCALE=1: ≤ 1.15× | 1.20×, **no** | – |" in budgets
    assert ("| preview: the documents' HTML rendered again after a save | SCALE=1: ≤ 1 s; SCALE=10: ≤ 1 s "
            "| 0.04 s, yes | 0.04 s, yes |") in budgets
    # every budget has its row, measured or not: with SCALE=1 alone, SCALE=10's are there too
    only_one = readme.budgets_block({1.0: results[1.0]})
    assert len(only_one) == 2 + 9 and "| load vs the copy floor | SCALE=10: ≤ 1.6× | – |" in only_one
    # with the CPU of the end to end and of its floors, the line under the table says it
    with_cpu(results[1.0]["stages"])
    assert readme.budgets_block({1.0: results[1.0]})[2 + 9:] == [
        "", "`SCALE=1`: " + cpu_note(cpu_against_floors(results[1.0]["stages"]), 2) + "."]
    assert readme.measured_block({1.0: results[1.0]}) == [
        "- `SCALE=1` (3.6 M rows): measured 2026-12-07 at commit abc1234 on 2 cores and 23.4 GB, "
        "Python 3.11.2, DuckDB 2.0.0, engine duckdb."]
    results[1.0]["machine"]["load_average"] = [0.4, 1.2]  # what the machine was doing besides
    assert readme.measured_block({1.0: results[1.0]})[0].endswith(
        "engine duckdb; load average 0.4 at the start, 1.2 at the end.")
    # the generator rewrites what is between the markers and nothing else
    folder = tmp_path / "baseline"
    folder.mkdir()
    (folder / "1.json").write_text(json.dumps(results[1.0]), encoding="utf-8")
    text = "# Perf\n\nprose\n<!-- bench:floors -->\nold\n<!-- /bench:floors -->\nmore prose\n"
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    assert readme.differences(path, folder) == ["floors"]
    readme.write_readme(path, folder)
    assert readme.differences(path, folder) == []
    new = path.read_text(encoding="utf-8")
    assert new.startswith("# Perf\n\nprose\n<!-- bench:floors -->\n| floor | SCALE=1 |\n")
    assert "| BIAs × BIA PDF floor ÷ workers | 20.00 s |\n<!-- /bench:floors -->\nmore prose\n" in new


def test_the_readmes_tables_are_the_committed_baselines() -> None:
    results = readme.baselines()
    assert sorted(results) == [1.0, 10.0]  # benchmarks/baseline/1.json and 10.json are committed
    names = {m.group("name") for m in readme.BLOCK.finditer(readme.README.read_text(encoding="utf-8"))}
    assert names == set(readme.BLOCKS)  # every table is in the README
    assert readme.differences() == [], "run python -m benchmarks.readme after updating benchmarks/baseline/"


def test_stage_table_names_each_stages_floor() -> None:
    result = made_up_result(1.0)
    result["floor"] = {"query_s": 0.8, "wall_s": 1.5, "peak_rss_mb": 102.4}
    lines = stage_table(result)
    assert "| load | 6.00 | 500 | 2.00× copy floor | in-process 5.50 s |" in lines
    changed = copy.deepcopy(result)
    changed["stages"][4]["vs_own_floor"] = None
    assert "| load | 6.00 | 500 | – | in-process 5.50 s |" in stage_table(changed)


def test_bia_batch_per_pdf_against_the_pdf_floor() -> None:
    stages = made_up()
    bia = next(s for s in stages if s["group"] == "bia")
    bia["info"]["per_pdf_median_s"] = 0.6
    c = bia_pdf_comparison(stages)  # the batch's own 2 workers
    assert (c["per_pdf_s"], c["floor_s"], c["vs_floor"], c["floor_bia"], c["workers"]) == (0.6, 0.5, 1.2, "Some BIA", 2)
    assert bia_pdf_note(c) == "per-PDF median 0.60 s vs bare WeasyPrint floor 0.50 s (1.2×)"
    # without the CLI's median: the batch's wall time × workers / PDFs = 24 × 2 / 80 = 0.6 s
    del bia["info"]["per_pdf_median_s"]
    c = bia_pdf_comparison(stages)
    assert c["per_pdf_s"] == 0.6 and "batch wall time × 2 workers / 80 PDFs" in bia_pdf_note(c)
    assert bia_pdf_comparison([s for s in stages if s["group"] != "bia"]) is None  # no batch, nothing to compare


def test_a_repeated_stage_keeps_its_median_run(tmp_path: Path) -> None:
    from benchmarks.runner import Bench

    bench = Bench(tmp_path, verbose=False)
    bench.stages.append(stage("before", "setup", None, 1.0))
    made = iter([stage(LOAD_STAGE, "report", "copy", 9.0, inner=8.5, peak=700.0, files_loaded=["a"], files_skipped=0),
                 stage(LOAD_STAGE, "report", "copy", 5.2, inner=4.9, peak=650.0, files_loaded=["b"], files_skipped=0),
                 stage(LOAD_STAGE, "report", "copy", 6.1, inner=5.6, peak=690.0, files_loaded=["c"], files_skipped=0)])
    cleared: list[int] = []

    def measure() -> dict:
        bench.stages.append(next(made))
        return bench.stages[-1]

    (kept,) = bench.rounds(3, [(measure, lambda: cleared.append(len(cleared)))])
    assert cleared == [0, 1, 2]  # `before` each run
    # by the in-process seconds 4.9 < 5.6 < 8.5: the median run is the third, whole
    assert (kept["wall_s"], kept["inner_s"], kept["info"]["files_loaded"]) == (6.1, 5.6, ["c"])
    assert kept["peak_rss_mb"] == 700.0  # the largest of the three
    assert [r["inner_s"] for r in kept["info"]["runs"]] == [8.5, 4.9, 5.6]
    assert [s["name"] for s in bench.stages] == ["before", LOAD_STAGE]  # one entry for the three runs
    assert "median of 3 runs: 8.50, 4.90, 5.60 s" in "; ".join(stage_notes(kept))


def test_a_repeated_stage_that_fails_stops_and_is_kept_as_it_failed(tmp_path: Path) -> None:
    from benchmarks.runner import Bench

    bench = Bench(tmp_path, verbose=False)
    runs = 0

    def measure() -> dict:
        nonlocal runs
        runs += 1
        entry = stage(E2E_STAGE, "e2e", "report", 15.0)
        if runs == 2:
            entry["status"] = "failed"
        bench.stages.append(entry)
        return entry

    (kept,) = bench.rounds(3, [(measure, None)])
    assert runs == 2 and kept["status"] == "failed" and bench.stages == [kept]


def test_rounds_run_the_stages_in_turn_and_keep_each_ones_median(tmp_path: Path) -> None:
    from benchmarks.runner import Bench

    bench = Bench(tmp_path, verbose=False)
    calls: list[str] = []
    walls = {"copy": iter([2.0, 2.6, 2.2]), "e2e": iter([14.0, 13.0, 17.0])}

    def measure(name: str) -> dict:
        calls.append(name)
        bench.stages.append(stage(name, name, None, next(walls[name])))
        return bench.stages[-1]

    copy_kept, e2e_kept = bench.rounds(3, [(lambda: measure("copy"), None),
                                           (lambda: measure("e2e"), lambda: calls.append("clear"))])
    assert calls == ["copy", "clear", "e2e"] * 3  # in turn, round by round
    assert (copy_kept["wall_s"], e2e_kept["wall_s"]) == (2.2, 14.0)  # the medians of 2.0, 2.6, 2.2 and 14, 13, 17
    assert [s["name"] for s in bench.stages] == ["copy", "e2e"]
