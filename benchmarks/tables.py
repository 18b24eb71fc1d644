"""The bench's result as Markdown: what ``make bench`` prints (one scale), and the cells the
README's tables are made of (``benchmarks.readme``, several scales)."""

from __future__ import annotations

from typing import Any

from .baseline import regression_lines
from .dbt_time import KINDS
from .names import FLOORS, NO_BUDGET, scale_name
from .ratios import bia_pdf_note, cpu_against_floors


def _s(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f} s"


def stage_notes(s: dict[str, Any]) -> list[str]:
    """The note column of one stage: status, files, whether dbt ran, timings."""
    info = s.get("info", {})
    note = [] if s["status"] == "ok" else [s["status"].upper()]
    if "files_loaded" in info:
        note.append(f"{len(info['files_loaded'])} files loaded, {info['files_skipped']} unchanged")
    if "dbt_ran" in info:
        note.append("dbt ran" if info["dbt_ran"] else "dbt skipped (nothing changed)")
    if info.get("stage_timings_s"):
        note.append(", ".join(f"{k} {v:.1f}" for k, v in info["stage_timings_s"].items()))
    if "inner_s" in s and not info.get("stage_timings_s"):
        note.append(f"in-process {s['inner_s']:.2f} s")
    if "layout_s" in info:
        note.append(f"layout {info['layout_s']:.2f} s ({info['documents']} documents, {info['workers']} workers) "
                    f"+ {info['charts']} charts {info['charts_s']:.2f} s")
    if "nothing_to_do" in info:
        note.append(f"{info['nodes']} nodes run")
    if "pdf_median_s" in info:
        note.append(f"html_to_pdf median {info['pdf_median_s']:.2f} s of {len(info['pdf_seconds'])} after a "
                    f"warm-up: {info['bia']} ({info['service_requests']:,} SRs)")
    if info.get("vs_pdf_floor"):
        note.append(bia_pdf_note(info["vs_pdf_floor"]))
    if "laid_out" in info:
        reused = info.get("pdfs_reused", len(info.get("reused") or []))
        note.append(f"PDFs reused: {reused}" + (f"; laid out: {', '.join(info['laid_out'])}"
                                                 if reused and info["laid_out"] else ""))
    if "render_seconds" in info:
        note.append("renders " + ", ".join(f"{x:.2f}" for x in info["render_seconds"]) + " s")
    if len(info.get("runs") or []) > 1:
        times = [r.get("inner_s", r["wall_s"]) for r in info["runs"]]
        note.append(f"median of {len(times)} runs: " + ", ".join(f"{x:.2f}" for x in times) + " s")
    return note


def own_floor_cell(s: dict[str, Any]) -> str:
    """'2.65× copy floor', or '–' for a stage without a measured floor."""
    if s.get("vs_own_floor") is None:
        return "–"
    return f"{s['vs_own_floor']:.2f}× {FLOORS[s['floor']]}"


def stage_table(result: dict[str, Any]) -> list[str]:
    """The stages and their totals as Markdown table lines."""
    lines = ["| stage | wall s | peak RSS MB | × its floor | note |", "|---|---:|---:|---|---|"]
    fl = result["floor"]
    lines.append(f"| floor: one DuckDB query on the Parquet files | {fl['query_s']:.2f} | "
                 f"{fl['peak_rss_mb']:.0f} | – | process {fl['wall_s']:.2f} s |")
    for s in result["stages"]:
        if s["group"] == "floor":
            continue
        if "wall_s" not in s:
            lines.append(f"| {s['name']} | – | – | – | {s['status']} |")
            continue
        lines.append(f"| {s['name']} | {s['wall_s']:.2f} | {s['peak_rss_mb']:.0f} | "
                     f"{own_floor_cell(s)} | {'; '.join(stage_notes(s))} |")
    t = result["totals"]
    for key, label in (("report_stages", "**make report, sum of stages (cold)**"),
                       ("load_dbt_cold", "**load + dbt build (cold)**"),
                       ("rerun_nothing_new_load_dbt", "**rerun, nothing new: load + dbt build**"),
                       ("one_new_month_load_dbt", "**one new month: load + dbt build**")):
        if t.get(key):
            lines.append(f"| {label} | {t[key]['wall_s']:.2f} | {t[key]['peak_rss_mb']:.0f} | | |")
    return lines


def floors_line(result: dict[str, Any]) -> str:
    """The floors of the run, one line: 'floors: query floor 0.86 s, copy floor 3.40 s, …'."""
    f = result.get("floors") or {}
    return "floors: " + ", ".join(f"{FLOORS[k]} {_s(f.get(k))}" for k in FLOORS)


def budget_cell(b: dict[str, Any]) -> tuple[str, str, str]:
    """(limit, measured, met) of one budget row as the tables print them."""
    unit = "×" if b["unit"] == "×" else f" {b['unit']}"
    measured = "–" if b["measured"] is None else f"{b['measured']:,.2f}{unit}"
    met = "–" if b["met"] is None else ("yes" if b["met"] else "**no**")
    return f"≤ {b['limit']:,g}{unit}", measured, met


def budget_table(result: dict[str, Any]) -> list[str]:
    """The budgets of the result's scale as Markdown table lines (one row saying there are none
    at a scale without budgets)."""
    lines = ["| budget | limit | measured | met |", "|---|---:|---:|---|"]
    if not result["budgets"]:
        lines.append(f"| {result.get('budget_note') or NO_BUDGET} | – | – | – |")
    for b in result["budgets"]:
        limit, measured, met = budget_cell(b)
        lines.append(f"| {b['name']} | {limit} | {measured} | {met} |")
    return lines


DBT_ROWS = (
    ("stage_wall_s", "the stage's wall time (its own process)"),
    ("python_start_s", "Python's start and the pipeline's imports (wall − in-process)"),
    ("around_dbt_s", "the pipeline around dbt: fingerprints, bookkeeping (in-process − run_dbt)"),
    ("dbt_outside_run_s", "dbt outside its run: start, imports, parse, manifest (run_dbt − dbt's elapsed_time)"),
    ("noop_floor_s", "… the dbt no-op build (the floor of the line above)"),
    ("dbt_run_s", "dbt's run (run_results' elapsed_time)"),
)


def dbt_time_table(dbt_time: dict[str, dict[str, Any]]) -> list[str]:
    """Where dbt's time goes (``benchmarks.dbt_time.breakdown`` by column label) as Markdown
    lines; node kinds are sums of their nodes' ``execution_time`` (compile + execute), which
    overlap on dbt's threads."""
    if not dbt_time:
        return []
    labels = list(dbt_time)
    lines = ["| where dbt's time goes | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for key, name in DBT_ROWS:
        lines.append(f"| {name} | " + " | ".join(_s(dbt_time[c].get(key)) for c in labels) + " |")
    kinds = [k for k in KINDS if any(k in dbt_time[c]["kinds"] for c in labels)]
    for kind in kinds:
        cells = []
        for c in labels:
            k = dbt_time[c]["kinds"].get(kind)
            cells.append("–" if k is None else f"{k['execution_s']:.2f} s ({k['compile_s']:.2f} + "
                                                f"{k['execute_s']:.2f}), {k['nodes']} nodes")
        lines.append(f"| … {KINDS[kind]}: sum of execution_time (compile + execute), nodes | "
                     + " | ".join(cells) + " |")
    cells = [("–" if dbt_time[c].get("event_loop_cpu_s") is None else
              f"{dbt_time[c]['event_loop_cpu_s']:.2f} s ({dbt_time[c]['log_lines']:,} lines)") for c in labels]
    lines.append("| JSON log parsing: CPU of run_dbt's loop reading dbt's events | " + " | ".join(cells) + " |")
    lines.append("| dbt's own CPU (user + system) | " + " | ".join(_s(dbt_time[c].get("dbt_cpu_s")) for c in labels)
                 + " |")
    return lines


def floor_lines(result: dict[str, Any]) -> list[str]:
    """The cold load + ``dbt build`` against the copy floor, and the BIA batch against the BIA PDF
    floor, one line each (when both sides were measured)."""
    lines = []
    cold = result["totals"].get("load_dbt_cold") or {}
    if cold.get("vs_copy_floor"):
        lines.append(f"load + dbt build (cold) = {cold['vs_copy_floor']:.1f} × the copy floor "
                     f"({result['copy_floor_s']:.2f} s: DuckDB copying the same files into tables)")
    cpu = cpu_against_floors(result["stages"])
    if cpu:
        lines.append(cpu_note(cpu, result["machine"]["cpus"]))
    c = result.get("bia_pdf")
    if c:
        lines.append(f"BIA batch: {bia_pdf_note(c)}; per PDF = {c['per_pdf_source']}, {c['workers']} "
                     f"worker(s) at a time; floor = html_to_pdf alone on {c['floor_bia']}'s print HTML")
    return lines


def cpu_note(cpu: dict[str, Any], cores: int) -> str:
    """What ``ratios.cpu_against_floors`` gives, one line: 'cold report's CPU (user + system)
    21.4 s = 1.74 × the floors' 12.3 s (copy floor 3.9 + …); cores kept busy on average: …'."""
    parts = cpu["parts_cpu_s"]
    return (f"cold report's CPU (user + system) {cpu['e2e_cpu_s']:.1f} s = {cpu['vs_floors']:.2f} × the floors' "
            f"{cpu['floors_cpu_s']:.1f} s (copy floor {parts['copy_floor']:.1f} + dbt no-op build "
            f"{parts['dbt_noop_floor']:.1f} + render floor {parts['render_floor']:.1f}); cores kept busy on "
            f"average: the report {cpu['e2e_cores_busy']:.2f}, the floors {cpu['floors_cores_busy']:.2f} (of {cores})")


def table(result: dict[str, Any]) -> str:
    """The result as Markdown: rows and machine, the stages, the floors, the budgets, where dbt's
    time goes, the comparison with the baseline and whether the floor's figures equal the
    marts' (what the bench prints)."""
    lines = [
        f"scale {scale_name(result['scale'])}: "
        + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items() if isinstance(v, int))
        + f"; {result['machine']['cpus']} cores, {result['machine']['memory_gb']} GB",
        "",
        *stage_table(result),
        "",
        floors_line(result),
        *floor_lines(result),
        "",
        *budget_table(result),
    ]
    dbt = dbt_time_table(result.get("dbt_time") or {})
    if dbt:
        lines += ["", *dbt]
    if result.get("regressions"):
        lines += ["", *regression_lines(result["regressions"])]
    lines.append("")
    same = result.get("render_floor_html_is_the_reports")
    if same is not None:
        lines.append("render floor's HTML = the end-to-end report's (layout keys): " + ("yes" if same else "NO"))
    lines.append("floor = marts: " + ("yes" if result["floor_matches_marts"] else
                                      "NO: " + "; ".join(result["floor_vs_marts_differences"][:5])))
    for file, column, reason, n in result.get("loader_rejects", []):
        lines.append(f"the loader rejected {n} row(s) of {file} ({column}: {reason}); the floor counts them")
    return "\n".join(lines)
