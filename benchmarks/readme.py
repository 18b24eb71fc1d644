"""The README's Performance tables, made from the committed baselines
(``benchmarks/baseline/1.json``, and ``10.json`` when there is one), never typed by hand.

``python -m benchmarks.readme`` rewrites each table between its marker comments in README.md
(``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->``); ``--check`` only says which differ
(``tests/unit/test_bench_readme.py`` fails when one does)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from pipeline.paths import PROJECT_DIR

from .baseline import BASELINE_DIR
from .budgets import BUDGETS
from .names import FLOORS, result_name, scale_name
from .ratios import cpu_against_floors
from .tables import budget_cell, cpu_note, dbt_time_table

README = PROJECT_DIR / "README.md"
SCALES = (1.0, 10.0)
BLOCK = re.compile(r"(<!-- bench:(?P<name>[a-z]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.S)


def baselines(folder: Path = BASELINE_DIR) -> dict[float, dict[str, Any]]:
    """The committed results by scale (DuckDB), for the scales the README shows."""
    found = {}
    for scale in SCALES:
        path = folder / result_name(scale, "duckdb")
        if path.is_file():
            found[scale] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _rows(r: dict[str, Any]) -> str:
    n = sum(v for v in r["rows"].values() if isinstance(v, int))
    return f"{n / 1e6:.1f} M rows"


def measured_block(results: dict[float, dict[str, Any]]) -> list[str]:
    """One line per result: scale, when, which commit, on what."""
    lines = []
    for scale, r in results.items():
        m = r["machine"]
        lines.append(f"- `SCALE={scale_name(scale)}` ({_rows(r)}): measured {r.get('measured_on') or '?'} at "
                     f"commit {r.get('commit') or '?'} on {m['cpus']} cores and {m['memory_gb']} GB, Python "
                     f"{m['python']}, DuckDB {m['duckdb']}, engine {r.get('engine', 'duckdb')}"
                     + (f"; load average {m['load_average'][0]} at the start, {m['load_average'][1]} at the end."
                        if m.get("load_average") else "."))
    return lines


def _stage_cell(s: dict[str, Any] | None) -> str:
    if s is None:
        return "–"
    if "wall_s" not in s:
        return s["status"]
    cell = f"{s['wall_s']:.2f} s, {s['peak_rss_mb'] / 1024:.1f} GB"
    if s.get("vs_own_floor") is not None:
        cell += f", {s['vs_own_floor']:.2f}×"
    return cell + ("" if s["status"] == "ok" else f" ({s['status']})")


def stages_block(results: dict[float, dict[str, Any]]) -> list[str]:
    """Every stage of every result (first result's order): wall time, peak memory and the ratio
    to the floor the stage names."""
    scales = list(results)
    lines = ["| stage | its floor | " + " | ".join(f"SCALE={scale_name(s)}" for s in scales) + " |",
             "|---|---|" + "---:|" * len(scales)]
    query = " | ".join(f"{results[s]['floor']['query_s']:.2f} s, {results[s]['floor']['peak_rss_mb'] / 1024:.1f} GB"
                       for s in scales)
    lines.append(f"| query floor: one DuckDB query on the Parquet files | – | {query} |")
    names: list[str] = []
    floor_of: dict[str, str | None] = {}
    for s in scales:
        for st in results[s]["stages"]:
            if st["group"] == "floor":
                continue
            if st["name"] not in floor_of:
                names.append(st["name"])
            if floor_of.get(st["name"]) is None:  # a stage skipped at one scale names no floor
                floor_of[st["name"]] = st.get("floor")
    for name in names:
        by_scale = [next((st for st in results[s]["stages"] if st["name"] == name), None) for s in scales]
        floor = floor_of[name]
        lines.append(f"| {name.strip()} | {FLOORS[floor] if floor else '–'} | "
                     + " | ".join(_stage_cell(c) for c in by_scale) + " |")
    return lines


def floors_block(results: dict[float, dict[str, Any]]) -> list[str]:
    """Each floor's value in each result."""
    scales = list(results)
    lines = ["| floor | " + " | ".join(f"SCALE={scale_name(s)}" for s in scales) + " |",
             "|---|" + "---:|" * len(scales)]
    for key, name in FLOORS.items():
        cells = [results[s].get("floors", {}).get(key) for s in scales]
        lines.append(f"| {name} | " + " | ".join("–" if c is None else f"{c:.2f} s" for c in cells) + " |")
    return lines


def budgets_block(results: dict[float, dict[str, Any]]) -> list[str]:
    """Every budget with its limits (``benchmarks.budgets``), and by scale what was measured and
    whether it was met ('–' where the result has no such row: another scale's budget, or no
    result of the scale)."""
    scales = list(results)
    lines = ["| budget | limit | " + " | ".join(f"SCALE={scale_name(s)}" for s in scales) + " |",
             "|---|---|" + "---|" * len(scales)]
    for b in BUDGETS:
        limits = "; ".join(f"SCALE={scale_name(s)}: " + budget_cell({"unit": b.unit, "limit": v, "measured": None,
                                                                     "met": None})[0]
                           for s, v in b.limits.items())
        cells = []
        for s in scales:
            row = next((r for r in results[s]["budgets"] if r.get("key") == b.key), None)
            _limit, measured, met = budget_cell(row) if row else ("", "–", "–")
            cells.append(measured + ("" if met == "–" else f", {met}"))
        lines.append(f"| {b.name} | {limits} | " + " | ".join(cells) + " |")
    for scale, r in results.items():
        cpu = cpu_against_floors(r["stages"])
        if cpu:
            lines += ["", f"`SCALE={scale_name(scale)}`: {cpu_note(cpu, r['machine']['cpus'])}."]
    return lines


def dbt_block(results: dict[float, dict[str, Any]]) -> list[str]:
    """Where dbt's time goes, one table per result."""
    lines: list[str] = []
    for scale, r in results.items():
        table = dbt_time_table(r.get("dbt_time") or {})
        if table:
            lines += ([""] if lines else []) + [f"`SCALE={scale_name(scale)}`:", "", *table]
    return lines


BLOCKS = {"measured": measured_block, "stages": stages_block, "floors": floors_block,
          "budgets": budgets_block, "dbt": dbt_block}


def render(text: str, results: dict[float, dict[str, Any]]) -> str:
    """``text`` (the README) with every marked block made from ``results``."""
    def block(m: re.Match) -> str:
        body = "\n".join(BLOCKS[m.group("name")](results))
        return f"{m.group(1)}{body}\n{m.group(4)}"

    return BLOCK.sub(block, text)


def differences(readme: Path = README, folder: Path = BASELINE_DIR) -> list[str]:
    """The names of the marked blocks whose text differs from what the baselines give."""
    text = readme.read_text(encoding="utf-8")
    want = {m.group("name"): m.group(0) for m in BLOCK.finditer(render(text, baselines(folder)))}
    have = {m.group("name"): m.group(0) for m in BLOCK.finditer(text)}
    return sorted(n for n in want if want[n] != have.get(n))


def write_readme(readme: Path = README, folder: Path = BASELINE_DIR) -> None:
    readme.write_text(render(readme.read_text(encoding="utf-8"), baselines(folder)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say which tables differ (exit 1 if any)")
    args = parser.parse_args(argv)
    if args.check:
        diff = differences()
        for name in diff:
            print(f"README.md: the bench:{name} table differs from benchmarks/baseline/: "
                  "run python -m benchmarks.readme", file=sys.stderr)
        return 1 if diff else 0
    write_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main())
