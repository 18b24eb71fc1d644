"""The floors: what the engines take alone on the same data in the same run, each measured in
its own process by ``benchmarks.stages``.

- the **query floor**: one DuckDB query computing the headline figures from the Parquet files;
- the **copy floor**: DuckDB copying the same Parquet files, as they are, into a new database
  file (the least any warehouse that keeps the rows must do);
- the **dbt no-op build**: the project's ``dbt build`` selecting nothing, through the same
  ``pipeline.transform.run_dbt`` (environment, ``--vars``, partial-parse state) as a real
  build: dbt's fixed cost (its start, imports and parse; with nothing selected dbt 1.11 stops
  there, before connecting, populating its cache or running the on-run-start hook);
- the **render floor**: WeasyPrint alone laying out the three documents' own print HTML in the
  pipeline's two PDF workers, plus drawing their charts once (Altair → SVG), from inputs made
  beforehand in another process;
- the **BIA PDF floor**: WeasyPrint alone laying out the busiest BIA's print HTML (median of 5).
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from .data import parquet_files

TOP_N = 10
BIA_FLOOR_REPEATS = 5
# a selector no node of the project matches: the no-op build runs none (checked after it ran)
NOTHING = "tag:cx311_bench_selects_nothing"


def _dbt_vars() -> dict[str, Any]:
    """The values the dbt models count with for the shipped profile (the demo data is Toronto's)."""
    from pipeline.profile import load_profile

    return load_profile().dbt_vars()


def floor_sql(raw_dir: Path) -> tuple[str, list[Any]]:
    """The one query computing the headline aggregates straight from the Parquet extracts.

    Demo Parquet timestamps are local time without a zone, so ``year()`` is the local year.
    """
    v = _dbt_vars()
    sl, short = int(v["service_level_seconds"]), int(v["short_abandon_seconds"])
    phone = "channel = 'phone' AND outcome IN ('answered', 'abandoned')"
    answered = "channel = 'phone' AND outcome = 'answered'"
    sql = f"""
    WITH
    i AS (
        SELECT year(started_at) AS y, channel, interaction_type, outcome, queue_seconds, handle_seconds
        FROM read_parquet(?)
    ),
    ia AS (
        SELECT
            y, grouping(channel) AS g_channel, grouping(interaction_type) AS g_type,
            channel, interaction_type, count(*) AS n,
            count(*) FILTER (WHERE {phone}) AS offered,
            count(*) FILTER (WHERE {answered}) AS answered,
            count(*) FILTER (WHERE {phone} AND outcome = 'abandoned' AND queue_seconds < {short})
                AS short_abandoned,
            count(*) FILTER (WHERE {answered} AND queue_seconds <= {sl}) AS within_threshold,
            sum(queue_seconds) FILTER (WHERE {answered}) AS queue_s,
            sum(handle_seconds) FILTER (WHERE {answered}) AS handle_s
        FROM i
        GROUP BY GROUPING SETS ((y), (y, channel), (y, interaction_type))
    ),
    s AS (
        SELECT year(created_at) AS y, sr_type, status = 'cancelled' AS cancelled
        FROM read_parquet(?)
    ),
    sa AS (
        SELECT y, grouping(sr_type) AS g_type, sr_type,
            count(*) FILTER (WHERE NOT cancelled) AS n, count(*) FILTER (WHERE cancelled) AS cancelled
        FROM s
        GROUP BY GROUPING SETS ((y), (y, sr_type))
    )
    SELECT 'interactions' AS entity, y,
        CASE WHEN g_channel = 0 THEN 'channel' WHEN g_type = 0 THEN 'type' ELSE 'total' END AS dim,
        coalesce(channel, interaction_type) AS category, n,
        offered, answered, short_abandoned, within_threshold, queue_s, handle_s, NULL AS cancelled
    FROM ia
    UNION ALL
    SELECT 'service_requests', y, CASE WHEN g_type = 0 THEN 'sr_type' ELSE 'total' END, sr_type, n,
        NULL, NULL, NULL, NULL, NULL, NULL, cancelled
    FROM sa
    ORDER BY 1, 2, 3, 5 DESC, 4
    """
    return sql, [parquet_files(raw_dir, "interactions"), parquet_files(raw_dir, "service_requests")]


def headline_from_floor(rows: list[tuple]) -> dict[str, Any]:
    """The floor query's rows in the headline shape (see :func:`headline_from_warehouse`)."""
    out: dict[str, Any] = {}
    for entity, y, dim, cat, n, offered, answered, short, within, queue_s, handle_s, cancelled in rows:
        year = out.setdefault(str(y), {"interactions": {"total": 0, "by_type": {}, "by_channel": {}},
                                       "phone": None, "service_requests": {"total": 0, "cancelled": 0,
                                                                           "top_types": []}})
        if entity == "interactions":
            if dim == "total":
                year["interactions"]["total"] = n
                if offered:
                    denom = offered - short
                    year["phone"] = {
                        "offered": offered,
                        "answered": answered,
                        "service_level": within / denom if denom else None,
                        "asa_seconds": queue_s / answered if answered else None,
                        "aht_seconds": handle_s / answered if answered else None,
                    }
            else:
                year["interactions"]["by_" + dim][cat] = n
        elif dim == "total":
            year["service_requests"]["total"] = n
            year["service_requests"]["cancelled"] = cancelled
        elif n and len(year["service_requests"]["top_types"]) < TOP_N:
            year["service_requests"]["top_types"].append([cat, n])
    return out


def floor(raw_dir: Path) -> tuple[dict[str, Any], float]:
    """Run the floor query; return (headline, seconds the query took)."""
    import duckdb

    sql, params = floor_sql(raw_dir)
    with duckdb.connect() as con:
        con.execute("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false")
        con.execute("SET enable_progress_bar=false")
        start = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        seconds = time.perf_counter() - start
    return headline_from_floor(rows), seconds


def copy_floor(raw_dir: Path, db_path: Path) -> tuple[int, float]:
    """Copy every entity's Parquet files, as they are, into a table of a new DuckDB file and
    checkpoint it; return (rows copied, seconds). The file is removed afterwards."""
    from pipeline.warehouse import connect

    db_path.unlink(missing_ok=True)
    rows = 0
    try:
        with connect(db_path) as con:  # the loader's settings: nothing installed or downloaded
            start = time.perf_counter()
            for entity in ("interactions", "service_requests", "kb_views"):
                files = parquet_files(raw_dir, entity)
                if files:
                    con.execute(f"CREATE TABLE {entity} AS SELECT * FROM read_parquet(?)", [files])
                    rows += con.execute(f"SELECT count(*) FROM {entity}").fetchone()[0]
            con.execute("CHECKPOINT")
            seconds = time.perf_counter() - start
    finally:
        db_path.unlink(missing_ok=True)
        db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
    return rows, seconds


def headline_from_warehouse(db_path: Path, years: list[int] | None = None) -> dict[str, Any]:
    """The same headline figures read from the warehouse's marts."""
    import duckdb

    out: dict[str, Any] = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        if years is None:
            years = [r[0] for r in con.execute(
                "SELECT DISTINCT activity_year FROM marts.mart_interaction_mix UNION "
                "SELECT created_year FROM marts.mart_sr_yearly ORDER BY 1").fetchall()]
        for y in years:
            mix = con.execute(
                "SELECT dimension, category, interactions, year_total FROM marts.mart_interaction_mix "
                "WHERE activity_year = ?", [y]).fetchall()
            ph = con.execute(
                "SELECT offered, answered, service_level, asa_seconds, aht_seconds "
                "FROM marts.mart_phone_service_level WHERE grain = 'year' AND period_year = ?", [y]
            ).fetchone()
            sr = con.execute(
                "SELECT service_requests, cancelled FROM marts.mart_sr_yearly WHERE created_year = ?", [y]
            ).fetchone()
            top = con.execute(
                "SELECT sr_type, service_requests FROM marts.mart_sr_top_types "
                "WHERE created_year = ? AND type_rank <= ? ORDER BY type_rank", [y, TOP_N]).fetchall()
            out[str(y)] = {
                "interactions": {
                    "total": mix[0][3] if mix else 0,
                    "by_type": {c: n for d, c, n, _ in mix if d == "type"},
                    "by_channel": {c: n for d, c, n, _ in mix if d == "channel"},
                },
                "phone": None if ph is None else dict(zip(
                    ("offered", "answered", "service_level", "asa_seconds", "aht_seconds"), ph, strict=True)),
                "service_requests": {
                    "total": sr[0] if sr else 0,
                    "cancelled": sr[1] if sr else 0,
                    "top_types": [[t, n] for t, n in top],
                },
            }
    return out


def headlines_match(a: dict[str, Any], b: dict[str, Any], rel: float = 1e-9) -> list[str]:
    """Differences between two headline dicts (empty when they agree; floats to ``rel``)."""
    diffs: list[str] = []

    def walk(x: Any, y: Any, path: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{path}.{k}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for k, (p, q) in enumerate(zip(x, y, strict=True)):
                walk(p, q, f"{path}[{k}]")
        elif isinstance(x, float) or isinstance(y, float):
            if x is None or y is None or abs(float(x) - float(y)) > rel * max(1.0, abs(float(x))):
                diffs.append(f"{path}: {x} != {y}")
        elif x != y:
            diffs.append(f"{path}: {x} != {y}")

    walk(a, b, "")
    return diffs


def busiest_bia_job(db_path: Path, raw_dir: Path, month: str) -> dict[str, Any]:
    """The render job of the BIA with the most service requests in ``month``, as ``run_batch``
    makes each of its jobs."""
    from pipeline.bia.batch import month_data, parse_month, render_job, source_files
    from pipeline.contract import is_demo

    data = month_data(db_path, month)
    rec = max(data.records, key=lambda r: r["service_requests"] or 0)
    files = [f["name"] for f in source_files(db_path, parse_month(data.month).year)]
    # out_dir: where render_one would write; the floor only lays out the job's HTML
    return render_job(data, rec, is_demo(Path(raw_dir)), files, Path(db_path).parent)


def bia_pdf_floor(db_path: Path, raw_dir: Path, month: str, repeats: int = BIA_FLOOR_REPEATS) -> dict:
    """The BIA PDF floor: WeasyPrint alone (``html_to_pdf``) laying out one BIA report's print
    HTML, with no data work. The HTML (marts read, chart drawn) is built once, untimed; one
    warm-up render, then ``repeats`` timed renders in this process; their median is the floor."""
    from pipeline.bia.batch import render_bia_html
    from pipeline.report.pdf import html_to_pdf

    job = busiest_bia_job(db_path, raw_dir, month)
    html = render_bia_html(job, "pdf")  # draws the trend chart too
    html_to_pdf(html)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        html_to_pdf(html)
        seconds.append(time.perf_counter() - start)
    return {"pdf_median_s": statistics.median(seconds), "pdf_seconds": [round(x, 3) for x in seconds],
            "bia": job["record"]["bia_name"], "service_requests": job["record"]["service_requests"],
            "html_chars": len(html)}


# --------------------------------------------------------------------------- the dbt no-op build


def dbt_noop_floor(db_path: Path, work_dir: Path, engine: str = "duckdb") -> dict[str, Any]:
    """Time ``dbt build`` selecting nothing through ``run_dbt``, as a real build in a new output
    folder runs it (the parse state copied in from the checkout's); raise when a node ran."""
    from pipeline.transform import run_dbt

    from .dbt_time import read_run_results

    shutil.rmtree(work_dir, ignore_errors=True)
    command = ["build", "--exclude-resource-type", "unit_test", "--select", NOTHING]
    start = time.perf_counter()
    output = run_dbt(command, Path(db_path), Path(work_dir), engine=engine)
    seconds = time.perf_counter() - start
    results = read_run_results(work_dir) or {}
    ran = [r["unique_id"] for r in results.get("results", [])]
    if ran:
        raise RuntimeError(f"the no-op build ran {len(ran)} node(s): {', '.join(ran[:5])}")
    return {"inner_s": seconds, "nodes": 0, "nothing_to_do": "Nothing to do" in output,
            "dbt_elapsed_s": results.get("elapsed_time")}


# --------------------------------------------------------------------------- the render floor


def render_floor_inputs(db_path: Path, raw_dir: Path, year: int, folder: Path) -> dict[str, Any]:
    """Write the three documents' print HTML, as ``render_annual_report`` gives it to WeasyPrint,
    into ``folder`` (``<kind>.html``); return each one's layout key (``layout_sha256`` in the
    manifest of a report of the same data)."""
    from pipeline.metrics import key_metrics
    from pipeline.report import report_meta
    from pipeline.report.annual import DOCUMENTS, render_html
    from pipeline.report.pdf import layout_key

    metrics, meta = key_metrics(db_path, year), report_meta(raw_dir, db_path, year)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    keys = {}
    for kind, (stem, *_rest) in DOCUMENTS.items():
        html = render_html(metrics, meta, "pdf", kind)
        (folder / f"{kind}.html").write_text(html, encoding="utf-8")
        keys[stem.format(year=year) + ".pdf"] = layout_key(html)
    return {"layout_keys": keys}


def draw_document_charts(metrics: dict) -> tuple[int, float]:
    """Draw the documents' charts once, as a report does with no chart cache: Appendix A's
    (``key_metric_specs``, of which the annual report shows two) and the annual report's own
    top-types chart. Returns (charts drawn, seconds)."""
    from pipeline.report import charts
    from pipeline.report.chart_specs import key_metric_specs
    from pipeline.report.context import ANNUAL_TOP_TYPES

    charts.use_chart_cache(None)
    start = time.perf_counter()
    specs = key_metric_specs(metrics)
    top = ((metrics.get("service_requests") or {}).get("top_types") or [])[:ANNUAL_TOP_TYPES]
    own = charts.top_types_svg(top, "chart-top-types") if top else None
    seconds = time.perf_counter() - start
    return sum(1 for s in specs if s.svg) + (own is not None), seconds


def render_floor(html_dir: Path, db_path: Path, year: int) -> dict[str, Any]:
    """The render floor: the print HTML in ``html_dir`` laid out by ``html_to_pdf`` in the
    pipeline's PDF workers (``PdfJobs``: two at a time, longest HTML first), then the charts
    drawn once in this process (after the workers forked: vl-convert's threads do not survive a
    fork). WeasyPrint is imported before the workers fork, so the floor is the layout, not
    the import. Returns the sum as ``inner_s``, and each part."""
    import weasyprint  # noqa: F401 - inherited by the forked workers

    from pipeline.metrics import key_metrics
    from pipeline.report import pdf

    htmls = sorted((p.read_text(encoding="utf-8") for p in sorted(Path(html_dir).glob("*.html"))),
                   key=len, reverse=True)
    metrics = key_metrics(db_path, year)
    with pdf.PdfJobs() as jobs:
        jobs.start()
        start = time.perf_counter()
        results = [jobs.submit(html) for html in htmls]
        pdf_bytes = sum(len(result()) for result in results)
        layout_s = time.perf_counter() - start
    n_charts, charts_s = draw_document_charts(metrics)
    return {"inner_s": layout_s + charts_s, "layout_s": round(layout_s, 3), "charts_s": round(charts_s, 3),
            "documents": len(htmls), "workers": pdf.PDF_WORKERS, "charts": n_charts, "pdf_bytes": pdf_bytes}
