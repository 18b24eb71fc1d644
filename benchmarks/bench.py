"""Benchmark the pipeline's stages on the synthetic demo data.

``python -m benchmarks.bench --scale 1`` (``make bench SCALE=1``):

1. generates the demo data set at ``scale`` × Toronto's 2023–2024 volume into
   ``<out>/<scale>/raw`` (reused when its ``DEMO_DATA.md`` says the same scale and seed);
2. times the floors (``benchmarks.floors``): the query floor, the copy floor, the dbt no-op
   build, the render floor and the BIA PDF floor;
3. times each stage of ``make report`` from a cold warehouse (load, ``dbt build``, key
   metrics, the documents, manifest), dbt's unit tests once, the BIA batch for one month, a
   rerun with nothing new, a rerun after one month of new files (January 2025, made by
   shifting a week of January 2024 rows by a year), and — unless skipped — ``python -m
   pipeline report`` end to end into a fresh output folder;
4. divides each stage's wall time by the floor it names (``benchmarks.ratios``), checks the
   budgets of the scale (``benchmarks.budgets``), says where dbt's time goes
   (``benchmarks.dbt_time``), compares the ratios with ``benchmarks/baseline/<scale>.json``
   (``benchmarks.baseline``), prints it all (``benchmarks.tables``) and writes
   ``<out>/<scale>.json``.

Every stage runs in its own process (``benchmarks.runner``, ``benchmarks.stages``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipeline.paths import PROJECT_DIR

from .baseline import baseline_path, read_baseline, regressions
from .budgets import budget_measures, budget_rows
from .data import demo_matches, link_tree, row_counts, write_extra_month, write_sentence
from .dbt_time import dbt_time
from .floors import headline_from_warehouse, headlines_match
from .names import (
    BIA_FLOOR_STAGE,
    BIA_MONTH,
    COPY_FLOOR_STAGE,
    DBT_NOOP_STAGE,
    DBT_STAGE,
    DBT_UNIT_STAGE,
    E2E_STAGE,
    LOAD_STAGE,
    MAPPED_CSV_STAGE,
    MAPPED_STAGE,
    MONTH_DBT_STAGE,
    MONTH_LOAD_STAGE,
    NO_BUDGET,
    PREVIEW_STAGE,
    QUERY_FLOOR_STAGE,
    RENDER_FLOOR_STAGE,
    RENDER_INPUTS_STAGE,
    RERUN_REPORT,
    SENTENCE_REPORT,
    SKIPPABLE,
    YEAR,
    engine,
    result_name,
    scale_name,
)
from .ratios import bia_pdf_comparison, floor_values, own_floor_ratios, stage_totals
from .runner import Bench, bia_cli_figures, reuse_figures
from .tables import table

DEFAULT_OUT = PROJECT_DIR / "output" / "bench"
REPEATS = 3  # rounds of the floors and of the stages a budget divides by them (Bench.rounds)
BIA_WORKERS = os.cpu_count() or 1  # what `make bia` uses: one PDF worker per core
# Where dbt's time goes: the columns of the table (label → stage)
DBT_COLUMNS = {"cold dbt build": DBT_STAGE, "one new month": MONTH_DBT_STAGE, "unit tests": DBT_UNIT_STAGE}


def render_documents() -> list[str]:
    """The annual report's documents, each of which the bench also renders alone."""
    from pipeline.report.context import DOCUMENTS

    return list(DOCUMENTS)


def run(scale: float = 1.0, out_root: Path = DEFAULT_OUT, skip: tuple[str, ...] = (),
        year: int = YEAR, bia_month: str = BIA_MONTH, seed: int = 311,
        verbose: bool = True, baseline: Path | None = None, repeats: int = REPEATS) -> dict[str, Any]:
    """Run the benchmark at ``scale``; write and return ``<out_root>/<scale>.json``. ``baseline``:
    the result to compare with (default ``benchmarks/baseline/<scale>.json``). ``repeats``: how
    many rounds of the floors and the stages a budget divides by them (the load, the cold end to
    end) run, in turn; each keeps its median run (``Bench.rounds``)."""
    out_root = Path(out_root).resolve()
    base = out_root / scale_name(scale)
    raw, work, plus, e2e = base / "raw", base / "work", base / "raw_plus_month", base / "e2e"
    for d in (work, plus, e2e, base / "logs", base / "dbt_noop", base / "dbt_unit", base / "render_floor"):
        shutil.rmtree(d, ignore_errors=True)
    bench = Bench(base, verbose)
    p = {"raw": str(raw), "output": str(work), "year": year}
    load_before = os.getloadavg()[0]  # how busy the machine was: the README says so beside the figures

    if demo_matches(raw, scale, seed):
        bench.absent("generate demo data", "setup", "reused")
    else:
        shutil.rmtree(raw, ignore_errors=True)
        gen = bench.child("generate demo data", "setup", "generate", {"raw": str(raw), "scale": scale,
                                                                       "seed": seed}, floor=None)
        if gen["status"] != "ok":
            raise RuntimeError(f"demo data generation failed:\n{gen.get('error')}")

    fl = bench.child(QUERY_FLOOR_STAGE, "floor", "floor", p, floor=None)
    if fl["status"] != "ok":
        raise RuntimeError(f"floor query failed:\n{fl.get('error')}")
    floor_headline = fl["info"].pop("headline")
    # the copy floor and the cold load (its budget's stage), in turn, `repeats` rounds (Bench.rounds);
    # then the stages of `make report`, each in its own process
    _copy, load = bench.rounds(repeats, [
        (lambda: bench.child(COPY_FLOOR_STAGE, "copy_floor", "copy_floor", p), None),
        (lambda: bench.child(LOAD_STAGE, "report", "load", p, floor="copy"),
         lambda: shutil.rmtree(work, ignore_errors=True)),  # each load into an empty folder
    ])
    dbt = bench.child(DBT_STAGE, "report", "dbt", p, floor="dbt_noop")
    # dbt's unit tests, on the warehouse just built, in a folder of their own
    bench.child(DBT_UNIT_STAGE, "dbt_unit", "dbt_unit", {**p, "work": str(base / "dbt_unit")}, floor="dbt_noop")
    report_stages(bench, p, base, skip)
    bia_stages(bench, p, raw, work, bia_month, skip)
    mapped_stages(bench, p, base, skip)
    incremental_stages(bench, p, raw, work, plus, year, skip)
    # the cold report's other floors and the report end to end, in turn, `repeats` rounds
    last_rounds(bench, p, base, raw, e2e, year, skip, repeats)

    # the warehouse's marts must give the floor's headline figures
    years = sorted(int(y) for y in floor_headline)
    diffs = headlines_match(floor_headline, headline_from_warehouse(work / "warehouse.duckdb", years)) \
        if load["status"] == dbt["status"] == "ok" else ["warehouse not built"]

    result = summarise(scale, bench.stages, fl, floor_headline, diffs, raw)
    result["render_floor_html_is_the_reports"] = same_print_html(bench.stages, e2e / str(year))
    result["loader_rejects"] = loader_rejects(work / "warehouse.duckdb", raw)
    result["engine"] = engine()
    result["machine"]["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    source = baseline or baseline_path(scale)
    shown = os.path.relpath(source, PROJECT_DIR) if Path(source).is_relative_to(PROJECT_DIR) else str(source)
    result["regressions"] = regressions(result, read_baseline(Path(source)), shown)
    (out_root / result_name(scale)).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def last_rounds(bench: Bench, p: dict[str, Any], base: Path, raw: Path, e2e: Path, year: int,
                skip: tuple[str, ...], repeats: int) -> None:
    """The dbt no-op build (on the warehouse built), the render floor (on the inputs
    ``report_stages`` made) and the cold ``python -m pipeline report`` in a fresh folder, in
    turn, ``repeats`` rounds: the cold report's budget divides it by floors of the same minutes."""
    html = {**p, "html": str(base / "render_floor")}
    inputs = next((s for s in bench.stages if s["name"] == RENDER_INPUTS_STAGE), None)
    measures = [(lambda: bench.child(DBT_NOOP_STAGE, "dbt_noop_floor", "dbt_noop",
                                     {**p, "work": str(base / "dbt_noop")}), None)]
    if "report" in skip:
        bench.absent(RENDER_FLOOR_STAGE, "render_floor", "skipped")
    elif inputs is None or inputs["status"] != "ok":
        bench.absent(RENDER_FLOOR_STAGE, "render_floor", "no input")
    else:
        measures.append((lambda: bench.child(RENDER_FLOOR_STAGE, "render_floor", "render_floor", html), None))
    if "e2e" in skip or "report" in skip:
        bench.absent(E2E_STAGE, "e2e", "skipped")
    else:
        report = ["report", "--year", str(year), "--raw", str(raw), "--output", str(e2e)]
        measures.append((lambda: bench.cli(E2E_STAGE, "e2e", report, floor="report"),
                         lambda: shutil.rmtree(e2e, ignore_errors=True)))
    bench.rounds(repeats, measures)


def report_stages(bench: Bench, p: dict[str, Any], base: Path, skip: tuple[str, ...]) -> None:
    """The rest of ``make report`` stage by stage, each document alone, and the render floor's
    inputs (the floor itself: ``last_rounds``)."""
    if "report" in skip:
        for name in ("key metrics", "render"):
            bench.absent(name, "report", "skipped")
        return
    bench.child("key metrics", "report", "metrics", p)
    bench.child("render: all documents (render_annual_report)", "report", "render", {**p, "document": "all"},
                floor="render")
    bench.child("manifest", "report", "manifest", p)
    # each document alone (informational: not part of the report total)
    for doc in render_documents():
        bench.child(f"  one document: {doc} HTML + PDF", "document", "render", {**p, "document": doc},
                    floor="render")
    html = {**p, "html": str(base / "render_floor")}
    bench.child(RENDER_INPUTS_STAGE, "render_floor_setup", "render_inputs", html, floor=None)


def bia_stages(bench: Bench, p: dict[str, Any], raw: Path, work: Path, bia_month: str,
               skip: tuple[str, ...]) -> None:
    """The BIA PDF floor, the month's batch and its rerun with nothing new."""
    bia_name = f"BIA batch {bia_month} (python -m pipeline bia)"
    if "bia" in skip:
        bench.absent(BIA_FLOOR_STAGE, "bia_floor", "skipped")
        bench.absent(bia_name, "bia", "skipped")
        return
    args = ["bia", "--month", bia_month, "--workers", str(BIA_WORKERS), "--raw", str(raw), "--output", str(work)]

    def figures(text: str) -> dict[str, Any]:
        return {**bia_cli_figures(text), "workers": BIA_WORKERS}

    bench.child(BIA_FLOOR_STAGE, "bia_floor", "bia_floor", {**p, "month": bia_month})
    bench.cli(bia_name, "bia", args, parse=figures, floor="bia_batch")
    bench.cli(f"rerun, nothing new: {bia_name}", "bia_rerun", args, parse=figures, floor="bia_batch")


def incremental_stages(bench: Bench, p: dict[str, Any], raw: Path, work: Path, plus: Path, year: int,
                       skip: tuple[str, ...]) -> None:
    """A rerun with nothing new (load, dbt, the report twice, one sentence changed, the
    preview), then one more month of files."""
    if "incremental" in skip:
        bench.absent("rerun, nothing new: load", "rerun", "skipped")
        bench.absent("rerun, nothing new: dbt build", "rerun", "skipped")
        return
    bench.child("rerun, nothing new: load", "rerun", "load", p, floor="copy")
    bench.child("rerun, nothing new: dbt build", "rerun", "dbt", p, floor="dbt_noop")
    if "report" not in skip:
        report = ["report", "--year", str(year), "--raw", str(raw), "--output", str(work)]
        # the stages above published no layout keys: the first CLI run lays out every PDF
        bench.cli("first python -m pipeline report after the stages", "first_report", report,
                  parse=reuse_figures, floor="render")
        bench.cli(RERUN_REPORT, "rerun_report", report, parse=reuse_figures, floor="render")
        try:
            write_sentence(raw, year, "A sentence the analyst changed for the bench.")
            bench.cli(SENTENCE_REPORT, "sentence_report", report, parse=reuse_figures, floor="render")
        finally:
            write_sentence(raw, year, None)
        bench.child(PREVIEW_STAGE, "preview", "preview", p, floor="render")
    link_tree(raw, plus)
    write_extra_month(plus)
    bench.child(MONTH_LOAD_STAGE, "month", "load", {**p, "raw": str(plus)}, floor="copy")
    bench.child(MONTH_DBT_STAGE, "month", "dbt", {**p, "raw": str(plus)}, floor="dbt_noop")
    shutil.rmtree(plus, ignore_errors=True)


def mapped_stages(bench: Bench, p: dict[str, Any], base: Path, skip: tuple[str, ...]) -> None:
    """Another system's export: the year's SRs through a mapping, against the same rows as
    contract CSV, each loaded into a new warehouse."""
    if "mapped" in skip:
        bench.absent(MAPPED_CSV_STAGE, "mapped", "skipped")
        bench.absent(MAPPED_STAGE, "mapped", "skipped")
        return
    mp = {**p, "csv": str(base / "sr_csv"), "mapped": str(base / "sr_mapped")}
    bench.child("mapped load: write the year's SRs twice", "mapped_setup", "mapped_setup", mp, floor=None)
    bench.child(MAPPED_CSV_STAGE, "mapped", "load", {**p, "raw": mp["csv"], "output": str(base / "sr_csv_out")},
                floor="copy")
    bench.child(MAPPED_STAGE, "mapped", "load", {**p, "raw": mp["mapped"], "output": str(base / "sr_mapped_out")},
                floor="copy")
    for d in ("sr_csv", "sr_mapped", "sr_csv_out", "sr_mapped_out"):
        shutil.rmtree(base / d, ignore_errors=True)


def loader_rejects(db_path: Path, raw: Path) -> list[list]:
    """Rows of the generated files the loader rejected (file, column, reason, rows): the floor
    reads them, so the floor's counts exceed the marts' by exactly these rows."""
    import duckdb

    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            rows = con.execute(
                "SELECT source_file, \"column\", reason, count(*) FROM raw.rejects "
                "WHERE source_file NOT LIKE '2025/%' GROUP BY ALL ORDER BY 1, 2, 3").fetchall()
    except duckdb.Error:
        return []
    return [list(r) for r in rows]


def _machine() -> dict[str, Any]:
    import duckdb

    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        pass
    return {"cpus": os.cpu_count(), "memory_gb": round(mem, 1) if mem else None,
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "platform": platform.platform()}




def same_print_html(stages: list[dict], published: Path) -> bool | None:
    """Whether the render floor laid out the HTML the end-to-end report laid out: each PDF's
    layout key equals the ``layout_sha256`` of its manifest (None when either did not run)."""
    from pipeline.manifest import published_outputs

    inputs = next((s for s in stages if s["group"] == "render_floor_setup" and s["status"] == "ok"), None)
    if inputs is None or not (published / "manifest.json").is_file():
        return None
    entries = published_outputs(published)
    return all((entries.get(name) or {}).get("layout_sha256") == key
               for name, key in inputs["info"]["layout_keys"].items())


def _commit() -> str | None:
    """The checkout's commit (with '+' when its files differ from it), or None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_DIR,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty else "")


def summarise(scale: float, stages: list[dict], fl: dict, headline: dict, diffs: list[str],
              raw: Path) -> dict[str, Any]:
    """The result: machine, rows, floors, stages and their ratios, totals, budgets, where dbt's
    time goes and the BIA PDF comparison."""
    floor_s = fl.get("inner_s") or fl["wall_s"]
    for s in stages:
        if "wall_s" in s:
            s["vs_floor"] = round(s["wall_s"] / floor_s, 2)
    floors = floor_values(stages, floor_s)
    own_floor_ratios(stages, floors)
    totals = stage_totals(stages, floor_s, floors["copy"])
    bia_pdf = bia_pdf_comparison(stages)
    if bia_pdf:
        next(s for s in stages if s["group"] == "bia")["info"]["vs_pdf_floor"] = bia_pdf
    budgets = budget_rows(scale, budget_measures(stages, totals))
    return {
        "scale": scale,
        "measured_on": dt.date.today().isoformat(),
        "commit": _commit(),
        "machine": _machine(),
        "rows": row_counts(raw),
        "copy_floor_s": floors["copy"],
        "floor": {"query_s": round(floor_s, 3), "wall_s": fl["wall_s"], "peak_rss_mb": fl["peak_rss_mb"],
                  "headline": headline},
        "floors": floors,
        "floor_matches_marts": not diffs,
        "floor_vs_marts_differences": diffs[:20],
        "stages": stages,
        "totals": totals,
        "bia_pdf": bia_pdf,
        "budgets": budgets,
        "budget_note": None if budgets else NO_BUDGET,
        "dbt_time": dbt_time(stages, DBT_COLUMNS, floors["dbt_noop"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiple of Toronto's volume (default 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for data and results")
    parser.add_argument("--year", type=int, default=YEAR, help="report year (default 2024)")
    parser.add_argument("--bia-month", default=BIA_MONTH, help="BIA batch month (default 2024-07)")
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--skip", default="", help=f"comma-separated stages to skip: {', '.join(SKIPPABLE)}")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default=None,
                        help="what runs the dbt models (default: CX311_ENGINE, else duckdb)")
    parser.add_argument("--repeat", type=int, default=REPEATS,
                        help=f"rounds of the floors, the load and the cold end to end; each keeps its median (default {REPEATS})")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="the result to compare with (default benchmarks/baseline/<scale>.json)")
    args = parser.parse_args(argv)
    if args.engine:
        os.environ["CX311_ENGINE"] = args.engine  # every stage's process inherits it
    skip = tuple(s.strip() for s in args.skip.split(",") if s.strip())
    unknown = set(skip) - set(SKIPPABLE)
    if unknown:
        parser.error(f"unknown --skip value(s): {', '.join(sorted(unknown))}")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    print(f"bench at scale {scale_name(args.scale)} into {args.out / scale_name(args.scale)}",
          file=sys.stderr, flush=True)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    result = run(args.scale, args.out, skip, args.year, args.bia_month, args.seed, baseline=args.baseline,
                 repeats=args.repeat)
    print(table(result))
    print(f"\nwrote {Path(args.out).resolve() / result_name(args.scale)}")
    failed = [s["name"] for s in result["stages"] if s["status"] == "failed"]
    if failed:
        print(f"failed stages: {', '.join(failed)}", file=sys.stderr)
    if result.get("render_floor_html_is_the_reports") is False:
        print("the render floor laid out other HTML than the report's: its inputs are wrong", file=sys.stderr)
        return 1
    if not result["floor_matches_marts"] and not result.get("loader_rejects"):
        print("the floor's headline figures differ from the marts'", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
