"""Benchmark the pipeline's stages on the synthetic demo data.

``python -m benchmarks.bench --scale 1`` (``make bench SCALE=1``):

1. generates the demo data set at ``scale`` × Toronto's 2023–2024 volume into
   ``<out>/<scale>/raw`` (reused when its ``DEMO_DATA.md`` says the same scale and seed);
2. times the **floor**: DuckDB alone reading the same Parquet files and computing the headline
   aggregates (interactions by type and channel, phone service level/ASA/AHT, SRs by year and
   top types) in one SQL query;
   It also times the **copy floor**: DuckDB alone copying the same Parquet files, as they are,
   into tables of a new database file — the least any warehouse that keeps the rows must do;
3. times each stage of ``make report`` from a cold warehouse (load, ``dbt build``, key
   metrics, the HTML and the PDF document, manifest), the **BIA PDF floor** (WeasyPrint alone
   laying out one BIA report's print HTML, no data work) and the BIA batch for one month, then a
   rerun with nothing new, then a rerun after one month of
   new files (January 2025, made by shifting a week of January 2024 rows by a year), and —
   unless skipped — ``python -m pipeline report`` end to end into a fresh output folder;
4. prints a table, the budgets of the scale (``BUDGETS``: scales 1 and 10) and writes
   ``<out>/<scale>.json``.

Every stage runs in its own subprocess and is reaped with ``os.wait4``, so its wall time and
peak resident memory (``ru_maxrss`` of the process and the processes it waited for, e.g. dbt)
are its own. Each stage also reports the time of its core call measured inside the process
(``inner_s``); ``wall_s`` − ``inner_s`` is interpreter start-up and imports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.paths import PROJECT_DIR

DEFAULT_OUT = PROJECT_DIR / "output" / "bench"
YEAR = 2024
BIA_MONTH = "2024-07"
TOP_N = 10
SKIPPABLE = ("report", "bia", "incremental", "e2e", "mapped")
E2E_STAGE = "cold python -m pipeline report (end to end)"
BIA_WORKERS = os.cpu_count() or 1  # what `make bia` uses: one PDF worker per core
BIA_FLOOR_REPEATS = 5
# Budgets (2 cores, 24 GB) by scale; any other scale has none. Each row: key, name, unit.
BUDGETS: dict[float, dict[str, float]] = {
    1.0: {"e2e_s": 12.0, "load_dbt_vs_copy_floor": 2.5, "new_month_s": 3.0, "bia_s": 12.0,
          "mapped_vs_csv": 1.5, "rerun_report_s": 2.0, "preview_render_s": 1.0},
    10.0: {"e2e_s": 75.0, "load_dbt_vs_copy_floor": 2.5, "new_month_s": 10.0, "peak_mb": 4 * 1024.0,
           "bia_s": 20.0, "preview_render_s": 1.0},
}
BUDGET_ROWS = (
    ("e2e_s", "cold end-to-end report (python -m pipeline report)", "s"),
    ("load_dbt_vs_copy_floor", "load + dbt build (cold) vs the copy floor", "× copy floor"),
    ("new_month_s", "one new month: load + dbt build", "s"),
    ("peak_mb", "peak memory of the cold end-to-end report", "MB"),
    ("bia_s", "BIA batch for one month", "s"),
    ("mapped_vs_csv", "load of the year's SRs through a mapping vs the same rows as contract CSV", "× CSV load"),
    ("rerun_report_s", "rerun, nothing new: python -m pipeline report", "s"),
    ("preview_render_s", "preview: the documents' HTML rendered again after a save", "s"),
)
RERUN_REPORT = "rerun, nothing new: python -m pipeline report"
SENTENCE_REPORT = "rerun, one narrative sentence changed: python -m pipeline report"
PREVIEW_STAGE = "preview: the HTML rendered again after a narrative save (median of 5)"
# The mapped-load stage: the year's service requests as another system's export (its own
# column names, US-style timestamps, its own status words) and the same rows as contract CSV.
MAPPED_EXPORT_MAPPING = """\
entity: service_requests
files: ["export/*.csv"]
columns: {sr_id: RequestNumber, created_at: CreatedDate, closed_at: ClosedDate, status: RequestStatus,
          sr_type: RequestType, division: Department, section: Unit, ward: District, fsa: PostalPrefix,
          intersection_1: Street1, intersection_2: Street2, latitude: Lat, longitude: Lon, bia: Area,
          channel: Source}
timestamps: {formats: ["%m/%d/%Y %I:%M:%S %p"]}
values:
  status: {INITIATED: initiated, "IN PROGRESS": in_progress, CLOSED: closed, CANCELLED: cancelled, UNKNOWN: unknown}
"""
NO_BUDGET = "no budget at this scale"


def scale_name(scale: float) -> str:
    """Folder/file name of a scale: 1 → '1', 10.0 → '10', 0.002 → '0.002'."""
    return f"{scale:g}"


# --------------------------------------------------------------------------- demo data


def demo_matches(raw_dir: Path, scale: float, seed: int) -> bool:
    """True when ``raw_dir`` holds a complete demo data set generated with ``scale`` and ``seed``
    (the generator writes DEMO_DATA.md last) in the generator's current Parquet layout (row
    groups of at most ``demo.ROW_GROUP_ROWS`` rows: older sets are read more slowly)."""
    import pyarrow.parquet as pq

    from pipeline.demo.dataset import ROW_GROUP_ROWS

    marker = raw_dir / "DEMO_DATA.md"
    if not marker.is_file():
        return False
    m = re.search(r"seed (\d+) and scale ([0-9.eE+-]+)", marker.read_text(encoding="utf-8"))
    if not m or int(m.group(1)) != seed or abs(float(m.group(2)) - scale) > 1e-12:
        return False
    files = [raw_dir / str(y) / f"{entity}_{y}.parquet"
             for y in (2023, 2024) for entity in ("interactions", "service_requests", "kb_views")]
    if not all(f.is_file() for f in files):
        return False
    meta = pq.read_metadata(files[0])
    return all(meta.row_group(i).num_rows <= ROW_GROUP_ROWS for i in range(meta.num_row_groups))


def parquet_files(raw_dir: Path, entity: str) -> list[str]:
    """The entity's Parquet extracts in the year folders, sorted."""
    return sorted(
        str(p) for p in Path(raw_dir).glob(f"[0-9][0-9][0-9][0-9]/{entity}*.parquet") if p.is_file()
    )


def write_extra_month(raw_dir: Path, days: int = 7) -> list[Path]:
    """One month of new files: ``2025/{interactions,service_requests}_2025-01.parquet``, the
    first ``days`` days of January 2024 shifted by a year, with new ids (``2024-`` → ``2025-``)."""
    import duckdb

    folder = Path(raw_dir) / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    src = {e: parquet_files(raw_dir, e) for e in ("interactions", "service_requests")}
    src = {e: [f for f in files if "/2024/" in f.replace(os.sep, "/")] for e, files in src.items()}
    out = [folder / "interactions_2025-01.parquet", folder / "service_requests_2025-01.parquet"]
    shift = "INTERVAL 1 YEAR"

    def gap(x: str) -> str:  # a local time shifted into the 2025 spring-forward gap moves out of it
        return (f"CASE WHEN {x} >= TIMESTAMP '2025-03-09 02:00' AND {x} < TIMESTAMP '2025-03-09 03:00' "
                f"THEN {x} + INTERVAL 1 HOUR ELSE {x} END")

    with duckdb.connect() as con:
        con.execute("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false")
        con.execute(
            f"COPY (SELECT * REPLACE (replace(interaction_id, '2024-', '2025-') AS interaction_id, "
            f"started_at + {shift} AS started_at, responded_at + {shift} AS responded_at, "
            f"replace(sr_id, '2024-', '2025-') AS sr_id) "
            f"FROM read_parquet(?) WHERE started_at < TIMESTAMP '2024-01-01' + INTERVAL {days} DAY "
            f"ORDER BY started_at) TO '{out[0]}' (FORMAT parquet)",
            [src["interactions"]],
        )
        con.execute(
            f"COPY (SELECT * REPLACE (replace(sr_id, '2024-', '2025-') AS sr_id, "
            f"created_at + {shift} AS created_at, {gap('closed_at + ' + shift)} AS closed_at) "
            f"FROM read_parquet(?) WHERE created_at < TIMESTAMP '2024-01-01' + INTERVAL {days} DAY "
            f"ORDER BY created_at) TO '{out[1]}' (FORMAT parquet)",
            [src["service_requests"]],
        )
    return out


def link_tree(src: Path, dst: Path) -> None:
    """A copy of ``src`` made of hard links (a plain copy where linking is not possible);
    the links keep content and modification time, so the loader sees the same files."""
    if dst.exists():
        shutil.rmtree(dst)
    for root, _dirs, files in os.walk(src):
        target = dst / Path(root).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                os.link(Path(root) / name, target / name)
            except OSError:
                shutil.copy2(Path(root) / name, target / name)


# --------------------------------------------------------------------------- the floor


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


# --------------------------------------------------------------------------- stages (child side)


def _stage_generate(p: dict) -> dict:
    from pipeline.demo import generate

    summary = generate(Path(p["raw"]), scale=p["scale"], seed=p["seed"])
    return {"rows": summary["files"]}


def _stage_floor(p: dict) -> dict:
    headline, seconds = floor(Path(p["raw"]))
    return {"inner_s": seconds, "headline": headline}


def _stage_copy_floor(p: dict) -> dict:
    out = Path(p["output"])
    out.mkdir(parents=True, exist_ok=True)
    rows, seconds = copy_floor(Path(p["raw"]), out / "copy_floor.duckdb")
    return {"inner_s": seconds, "rows": rows}


def _stage_load(p: dict) -> dict:
    from pipeline.ingest import load, load_service_standards
    from pipeline.warehouse import connect

    out = Path(p["output"])
    out.mkdir(parents=True, exist_ok=True)
    db = out / "warehouse.duckdb"
    start = time.perf_counter()
    s = load(Path(p["raw"]), db)
    with connect(db) as con:
        load_service_standards(Path(p["raw"]), con)
    return {
        "inner_s": time.perf_counter() - start,
        "files_loaded": s.files_loaded,
        "files_skipped": len(s.files_skipped),
        "rows_loaded": s.rows_loaded,
    }


def _stage_mapped_setup(p: dict) -> dict:
    """The year's service requests written twice: as contract CSV (``csv/<YEAR>/``) and as
    another system's export with its mapping (``mapped/mapped/``)."""
    from pipeline.contract import ENTITIES
    from pipeline.demo.schema import NOT_EXPORTED

    src = Path(p["raw"]) / str(p["year"]) / f"service_requests_{p['year']}.parquet"
    csv_raw, mapped_raw = Path(p["csv"]), Path(p["mapped"])
    for d in (csv_raw, mapped_raw):
        shutil.rmtree(d, ignore_errors=True)
    (csv_raw / str(p["year"])).mkdir(parents=True)
    (mapped_raw / "mapped" / "export").mkdir(parents=True)
    import duckdb
    import yaml

    columns = yaml.safe_load(MAPPED_EXPORT_MAPPING)["columns"]
    names = [c.name for c in ENTITIES["service_requests"] if c.name not in NOT_EXPORTED]  # the demo's columns
    ts = "strftime({c}, '%m/%d/%Y %I:%M:%S %p')"
    renamed = ", ".join(
        (f"{ts.format(c=c)} AS {columns[c]}" if c in ("created_at", "closed_at")
         else f"upper(replace(status, '_', ' ')) AS {columns[c]}" if c == "status" else f"{c} AS {columns[c]}")
        for c in names)
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT {', '.join(names)} FROM '{src}') TO "
                    f"'{csv_raw / str(p['year']) / 'service_requests.csv'}' (HEADER)")
        con.execute(f"COPY (SELECT {renamed} FROM '{src}') TO '{mapped_raw / 'mapped' / 'export' / 'sr.csv'}' (HEADER)")
        rows = con.execute(f"SELECT count(*) FROM '{src}'").fetchone()[0]
    (mapped_raw / "mapped" / "export.yaml").write_text(MAPPED_EXPORT_MAPPING, encoding="utf-8")
    return {"rows": rows}


def dbt_node_timings(work_dir: Path, top: int = 8) -> list[list]:
    """The slowest nodes of the last dbt run, from ``dbt_target/run_results.json``."""
    path = Path(work_dir) / "dbt_target" / "run_results.json"
    if not path.is_file():
        return []
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    nodes = sorted(((r["unique_id"], round(r.get("execution_time") or 0.0, 2)) for r in results),
                   key=lambda r: -r[1])
    return [list(n) for n in nodes[:top]] + [["all nodes (sum)", round(sum(n[1] for n in nodes), 2)],
                                             ["nodes", len(nodes)]]


def _stage_dbt(p: dict) -> dict:
    from pipeline.transform import build

    out = Path(p["output"])
    start = time.perf_counter()
    ran = build(out / "warehouse.duckdb", out, engine=engine())
    info: dict[str, Any] = {"inner_s": time.perf_counter() - start, "dbt_ran": ran}
    if ran:
        info["slowest_nodes"] = dbt_node_timings(out)
    return info


def _stage_metrics(p: dict) -> dict:
    from pipeline.metrics import key_metrics, write_key_metrics
    from pipeline.report import report_meta

    out, year = Path(p["output"]), int(p["year"])
    db = out / "warehouse.duckdb"
    start = time.perf_counter()
    metrics = key_metrics(db, year)
    write_key_metrics(metrics, out / str(year))
    report_meta(Path(p["raw"]), db, year)
    return {"inner_s": time.perf_counter() - start}


def _render_inputs(p: dict) -> tuple[dict, dict, Path, int]:
    """What the documents are rendered from, as ``report`` has it: the key metrics with the
    figures only the documents read (``key_metrics.json`` leaves those out), and the meta."""
    from pipeline.metrics import key_metrics
    from pipeline.report import report_meta

    out, year = Path(p["output"]), int(p["year"])
    db = out / "warehouse.duckdb"
    return key_metrics(db, year), report_meta(Path(p["raw"]), db, year), out / str(year), year


def render_documents() -> list[str]:
    """The annual report's documents, each of which the bench also renders alone."""
    from pipeline.report.context import DOCUMENTS

    return list(DOCUMENTS)


def _stage_render(p: dict) -> dict:
    """One document (HTML + PDF of a ``DOCUMENTS`` kind), or with ``document == 'all'`` what
    ``make report`` runs: ``render_annual_report``."""
    from pipeline.report import render_annual_report
    from pipeline.report.annual import render_html
    from pipeline.report.context import DOCUMENTS
    from pipeline.report.pdf import html_to_pdf

    metrics, meta, out_dir, year = _render_inputs(p)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = p["document"]
    start = time.perf_counter()
    if doc == "all":
        written = render_annual_report(metrics, meta, out_dir)
        return {"inner_s": time.perf_counter() - start, "documents": [f.name for f in written]}
    scratch = out_dir / "bench-documents"
    scratch.mkdir(exist_ok=True)
    stem = DOCUMENTS[doc][0].format(year=year)
    (scratch / f"{stem}.html").write_text(render_html(metrics, meta, "html", doc), encoding="utf-8")
    (scratch / f"{stem}.pdf").write_bytes(html_to_pdf(render_html(metrics, meta, "pdf", doc)))
    return {"inner_s": time.perf_counter() - start}


def _stage_manifest(p: dict) -> dict:
    from pipeline.manifest import write_manifest
    from pipeline.warehouse import input_files as inputs

    out, year = Path(p["output"]), int(p["year"])
    out_dir = out / str(year)
    written = sorted(f for f in out_dir.iterdir() if f.is_file() and f.name != "manifest.json")
    settings = json.loads((out_dir / "key_metrics.json").read_text(encoding="utf-8"))["settings"]
    start = time.perf_counter()
    write_manifest(out_dir, inputs(out / "warehouse.duckdb", year), written, settings)
    return {"inner_s": time.perf_counter() - start}


def _stage_preview(p: dict) -> dict:
    """What ``make preview`` does after a save in the narrative: the three documents' HTML
    rendered again from the figures in memory (``Site.render``), timed five times after one
    untimed render, each after a sentence was written to ``highlights.md`` (a scratch copy of
    the raw folder's narrative: the bench's raw folder is left as it was)."""
    import shutil

    from pipeline.preview import Figures, Site

    out, year, raw = Path(p["output"]), int(p["year"]), Path(p["raw"])
    figures = Figures.read(out / "warehouse.duckdb", raw, year).draw()
    scratch = out / "preview-raw"
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "narrative" / str(year)).mkdir(parents=True)
    site = Site(figures, scratch, year)
    site.render()
    seconds = []
    for i in range(5):
        (scratch / "narrative" / str(year) / "highlights.md").write_text(
            f"A sentence saved in the preview, number {i}.\n", encoding="utf-8")
        start = time.perf_counter()
        site.render()
        seconds.append(time.perf_counter() - start)
    shutil.rmtree(scratch, ignore_errors=True)
    return {"inner_s": statistics.median(seconds), "render_seconds": [round(x, 3) for x in seconds],
            "error": site.error}


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


def _stage_bia_floor(p: dict) -> dict:
    return bia_pdf_floor(Path(p["output"]) / "warehouse.duckdb", Path(p["raw"]), p["month"])


CHILD_STAGES: dict[str, Callable[[dict], dict]] = {
    "generate": _stage_generate,
    "floor": _stage_floor,
    "copy_floor": _stage_copy_floor,
    "load": _stage_load,
    "dbt": _stage_dbt,
    "metrics": _stage_metrics,
    "render": _stage_render,
    "manifest": _stage_manifest,
    "bia_floor": _stage_bia_floor,
    "mapped_setup": _stage_mapped_setup,
    "preview": _stage_preview,
}


def _child_main(stage: str, params: str, result: str) -> int:
    info = CHILD_STAGES[stage](json.loads(params))
    Path(result).write_text(json.dumps(info, default=str), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- stages (parent side)


def run_measured(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; return its exit code, wall seconds and peak RSS (MB) from ``os.wait4``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=PROJECT_DIR, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    # Linux: ru_maxrss in KiB, the max over the child and the descendants it waited for
    return {"returncode": proc.returncode, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024.0,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Bench:
    """Runs stages as subprocesses and collects their measurements."""

    def __init__(self, base: Path, verbose: bool = True):
        self.base = base
        self.logs = base / "logs"
        self.stages: list[dict[str, Any]] = []
        self.verbose = verbose
        self._n = 0

    def _record(self, name: str, group: str, m: dict[str, Any], info: dict[str, Any], log: Path) -> dict:
        entry = {"name": name, "group": group, "status": "ok" if m["returncode"] == 0 else "failed",
                 "wall_s": round(m["wall_s"], 3), "peak_rss_mb": round(m["peak_rss_mb"], 1),
                 "cpu_s": round(m["cpu_s"], 2)}
        inner = info.pop("inner_s", None)
        if inner is not None:
            entry["inner_s"] = round(inner, 3)
        entry["info"] = info
        if m["returncode"] != 0:
            entry["error"] = _tail(log)
        self.stages.append(entry)
        if self.verbose:
            print(f"  {name:<44} {entry['wall_s']:8.2f} s  {entry['peak_rss_mb']:8.0f} MB  "
                  f"{entry['status']}", file=sys.stderr, flush=True)
        return entry

    def child(self, name: str, group: str, stage: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one library stage in ``python -m benchmarks.bench --child``."""
        self._n += 1
        log = self.logs / f"{self._n:02d}-{stage}.log"
        result = self.logs / f"{self._n:02d}-{stage}.json"
        result.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "benchmarks.bench", "--child", stage,
               "--params", json.dumps(params, default=str), "--result", str(result)]
        m = run_measured(cmd, log)
        info = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
        return self._record(name, group, m, info, log)

    def cli(self, name: str, group: str, args: list[str],
            parse: Callable[[str], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Run ``python -m pipeline <args>`` (what ``make`` runs); parse its stage timings, and
        with ``parse`` whatever else it prints into the stage's info."""
        self._n += 1
        log = self.logs / f"{self._n:02d}-cli-{args[0]}.log"
        m = run_measured([sys.executable, "-m", "pipeline", *args], log)
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        timings = {k: float(v) for k, v in re.findall(r"^([a-z][a-z ]+): ([0-9.]+) s$", text, re.M)}
        info = {"stage_timings_s": timings, **(parse(text) if parse else {})}
        return self._record(name, group, m, info, log)

    def absent(self, name: str, group: str, status: str) -> dict[str, Any]:
        entry = {"name": name, "group": group, "status": status}
        self.stages.append(entry)
        if self.verbose:
            print(f"  {name:<44} {status}", file=sys.stderr, flush=True)
        return entry


def bia_cli_figures(text: str) -> dict[str, Any]:
    """What ``python -m pipeline bia`` printed (``pipeline.bia.summary_lines``): reports rendered
    and failed, the batch's seconds and the median and max seconds per report (each report's
    HTML and PDF, timed in its worker by ``render_one``); keys it did not print are left out."""
    out: dict[str, Any] = {}
    m = re.search(r"^BIA reports for \S+: (\d+) rendered, (\d+) failed, in ([0-9.]+) s$", text, re.M)
    if m:
        out.update(pdfs=int(m.group(1)), failed=int(m.group(2)), batch_s=float(m.group(3)))
    m = re.search(r"render time per report: median ([0-9.]+) s, max ([0-9.]+) s", text)
    if m:
        out.update(per_pdf_median_s=float(m.group(1)), per_pdf_max_s=float(m.group(2)))
    m = re.search(r"PDFs reused from the published set \(.*?\): (\d+); laid out again: (.+)$", text, re.M)
    if m:
        out.update(pdfs_reused=int(m.group(1)),
                   laid_out=[] if m.group(2) == "none" else m.group(2).split(", "))
    return out


def reuse_figures(text: str) -> dict[str, Any]:
    """Which PDFs ``python -m pipeline report`` reused and laid out (what it printed)."""
    out: dict[str, Any] = {}
    m = re.search(r"^  reused the published PDF \(.*?\): (.+)$", text, re.M)
    out["reused"] = m.group(1).split(", ") if m else []
    m = re.search(r"^  laid out: (.+)$", text, re.M)
    out["laid_out"] = [] if m is None or m.group(1) == "none" else m.group(1).split(", ")
    return out


def write_sentence(raw: Path, year: int, sentence: str | None) -> None:
    """Write (or, with None, remove) ``raw/narrative/<year>/highlights.md``."""
    path = Path(raw) / "narrative" / str(year) / "highlights.md"
    if sentence is None:
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                folder.rmdir()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sentence + "\n", encoding="utf-8")


def engine() -> str:
    """The engine the dbt models run on (``--engine``, passed to every stage as CX311_ENGINE)."""
    return os.environ.get("CX311_ENGINE", "duckdb")


def result_name(scale: float) -> str:
    """``<scale>.json``, or ``<scale>-spark.json`` for a run on Spark."""
    return scale_name(scale) + ("" if engine() == "duckdb" else f"-{engine()}") + ".json"


def run(scale: float = 1.0, out_root: Path = DEFAULT_OUT, skip: tuple[str, ...] = (),
        year: int = YEAR, bia_month: str = BIA_MONTH, seed: int = 311,
        verbose: bool = True) -> dict[str, Any]:
    """Run the benchmark at ``scale``; write and return ``<out_root>/<scale>.json``."""
    out_root = Path(out_root).resolve()
    base = out_root / scale_name(scale)
    raw, work, plus, e2e = base / "raw", base / "work", base / "raw_plus_month", base / "e2e"
    for d in (work, plus, e2e, base / "logs"):
        shutil.rmtree(d, ignore_errors=True)
    bench = Bench(base, verbose)
    p = {"raw": str(raw), "output": str(work), "year": year}

    if demo_matches(raw, scale, seed):
        bench.absent("generate demo data", "setup", "reused")
    else:
        shutil.rmtree(raw, ignore_errors=True)
        gen = bench.child("generate demo data", "setup", "generate", {"raw": str(raw), "scale": scale,
                                                                       "seed": seed})
        if gen["status"] != "ok":
            raise RuntimeError(f"demo data generation failed:\n{gen.get('error')}")

    fl = bench.child("floor: DuckDB query on the Parquet files", "floor", "floor", p)
    if fl["status"] != "ok":
        raise RuntimeError(f"floor query failed:\n{fl.get('error')}")
    floor_headline = fl["info"].pop("headline")
    bench.child("copy floor: DuckDB copies the Parquet files into tables", "copy_floor", "copy_floor", p)

    # cold: the stages of `make report`, each in its own process
    load = bench.child("load", "report", "load", p)
    dbt = bench.child("dbt build", "report", "dbt", p)
    if "report" in skip:
        bench.absent("key metrics", "report", "skipped")
        bench.absent("render", "report", "skipped")
    else:
        bench.child("key metrics", "report", "metrics", p)
        bench.child("render: all documents (render_annual_report)", "report", "render",
                    {**p, "document": "all"})
        bench.child("manifest", "report", "manifest", p)
        # each document alone (informational: not part of the report total)
        for doc in render_documents():
            bench.child(f"  one document: {doc} HTML + PDF", "document", "render", {**p, "document": doc})

    bia_name = f"BIA batch {bia_month} (python -m pipeline bia)"
    bia_floor_name = "BIA PDF floor: bare WeasyPrint, one BIA report"
    if "bia" in skip:
        bench.absent(bia_floor_name, "bia_floor", "skipped")
        bench.absent(bia_name, "bia", "skipped")
    else:
        bench.child(bia_floor_name, "bia_floor", "bia_floor", {**p, "month": bia_month})
        bench.cli(bia_name, "bia", ["bia", "--month", bia_month, "--workers", str(BIA_WORKERS),
                                    "--raw", str(raw), "--output", str(work)], parse=bia_cli_figures)
        bench.cli(f"rerun, nothing new: {bia_name}", "bia_rerun",
                  ["bia", "--month", bia_month, "--workers", str(BIA_WORKERS), "--raw", str(raw),
                   "--output", str(work)], parse=bia_cli_figures)

    mapped_stages(bench, p, base, skip)

    # incremental: nothing new, then one more month of files
    if "incremental" in skip:
        bench.absent("rerun, nothing new: load", "rerun", "skipped")
        bench.absent("rerun, nothing new: dbt build", "rerun", "skipped")
    else:
        bench.child("rerun, nothing new: load", "rerun", "load", p)
        bench.child("rerun, nothing new: dbt build", "rerun", "dbt", p)
        if "report" not in skip:
            report = ["report", "--year", str(year), "--raw", str(raw), "--output", str(work)]
            # the stages above published no layout keys: the first CLI run lays out every PDF
            bench.cli("first python -m pipeline report after the stages", "first_report", report,
                      parse=reuse_figures)
            bench.cli(RERUN_REPORT, "rerun_report", report, parse=reuse_figures)
            try:
                write_sentence(raw, year, "A sentence the analyst changed for the bench.")
                bench.cli(SENTENCE_REPORT, "sentence_report", report, parse=reuse_figures)
            finally:
                write_sentence(raw, year, None)
            bench.child(PREVIEW_STAGE, "preview", "preview", p)
        link_tree(raw, plus)
        write_extra_month(plus)
        bench.child("one new month: load", "month", "load", {**p, "raw": str(plus)})
        bench.child("one new month: dbt build", "month", "dbt", {**p, "raw": str(plus)})
        shutil.rmtree(plus, ignore_errors=True)

    if "e2e" in skip or "report" in skip:
        bench.absent(E2E_STAGE, "e2e", "skipped")
    else:
        bench.cli(E2E_STAGE, "e2e",
                  ["report", "--year", str(year), "--raw", str(raw), "--output", str(e2e)])

    # the warehouse's marts must give the floor's headline figures
    years = sorted(int(y) for y in floor_headline)
    diffs = headlines_match(floor_headline, headline_from_warehouse(work / "warehouse.duckdb", years)) \
        if load["status"] == dbt["status"] == "ok" else ["warehouse not built"]

    result = summarise(scale, bench.stages, fl, floor_headline, diffs, raw)
    result["loader_rejects"] = loader_rejects(work / "warehouse.duckdb", raw)
    result["engine"] = engine()
    (out_root / result_name(scale)).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def mapped_stages(bench: Bench, p: dict[str, Any], base: Path, skip: tuple[str, ...]) -> None:
    """Another system's export: the year's SRs through a mapping, against the same rows as
    contract CSV, each loaded into a new warehouse."""
    if "mapped" in skip:
        bench.absent("mapped load: contract CSV", "mapped", "skipped")
        bench.absent("mapped load: through a mapping", "mapped", "skipped")
        return
    mp = {**p, "csv": str(base / "sr_csv"), "mapped": str(base / "sr_mapped")}
    bench.child("mapped load: write the year's SRs twice", "mapped_setup", "mapped_setup", mp)
    bench.child("mapped load: contract CSV", "mapped", "load",
                {**p, "raw": mp["csv"], "output": str(base / "sr_csv_out")})
    bench.child("mapped load: through a mapping", "mapped", "load",
                {**p, "raw": mp["mapped"], "output": str(base / "sr_mapped_out")})
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


def budget_measures(stages: list[dict], totals: dict[str, Any]) -> dict[str, float | None]:
    """What each budget (``BUDGET_ROWS`` key) measures in this run; None when not measured.

    The ratio to the copy floor divides the cold load and ``dbt build`` stages' wall time by the
    copy floor's in-process seconds measured in the same run."""
    by_name = {s["name"]: s for s in stages}
    e2e = by_name.get(E2E_STAGE, {})
    bia = next((s for s in stages if s["group"] == "bia"), {})
    return {
        "e2e_s": e2e.get("wall_s"),
        "load_dbt_vs_copy_floor": (totals["load_dbt_cold"] or {}).get("vs_copy_floor"),
        "new_month_s": (totals["one_new_month_load_dbt"] or {}).get("wall_s"),
        "peak_mb": e2e.get("peak_rss_mb"),
        "bia_s": bia.get("wall_s"),
        "mapped_vs_csv": _ratio(by_name.get("mapped load: through a mapping"), by_name.get("mapped load: contract CSV")),
        "rerun_report_s": by_name.get(RERUN_REPORT, {}).get("wall_s"),
        "preview_render_s": by_name.get(PREVIEW_STAGE, {}).get("inner_s"),
    }


def _ratio(a: dict | None, b: dict | None) -> float | None:
    """In-process load seconds of stage ``a`` over ``b`` (None unless both ran)."""
    if not a or not b or a.get("status") != "ok" or b.get("status") != "ok":
        return None
    return a["inner_s"] / b["inner_s"] if b.get("inner_s") else None


def budget_rows(scale: float, measures: dict[str, float | None]) -> list[dict[str, Any]]:
    """The budget rows of ``scale`` (name, limit, unit, measured, met); [] at a scale without
    budgets. ``met`` is None when the measure was not taken (a skipped stage)."""
    limits = BUDGETS.get(float(scale), {})
    rows = []
    for key, name, unit in BUDGET_ROWS:
        if key not in limits:
            continue
        measured = measures.get(key)
        rows.append({"name": name, "limit": limits[key], "unit": unit,
                     "measured": None if measured is None else round(measured, 2),
                     "met": None if measured is None else measured <= limits[key]})
    return rows


def bia_pdf_comparison(stages: list[dict], workers: int = BIA_WORKERS) -> dict[str, Any] | None:
    """The BIA batch's seconds per PDF against the BIA PDF floor, or None without both.

    Per PDF is the median the CLI prints (each report's HTML and PDF as its worker timed them,
    ``workers`` reports at a time); without it, the batch's wall time × ``workers`` / PDFs."""
    bia = next((s for s in stages if s["group"] == "bia" and "wall_s" in s), None)
    fl = next((s for s in stages if s["group"] == "bia_floor" and s["status"] == "ok"), None)
    if bia is None or fl is None:
        return None
    info = bia.get("info", {})
    per_pdf, source = info.get("per_pdf_median_s"), "median of the per-report seconds the CLI prints"
    if per_pdf is None and info.get("pdfs"):
        per_pdf = bia["wall_s"] * workers / info["pdfs"]
        source = f"batch wall time × {workers} workers / {info['pdfs']} PDFs (the CLI printed no median)"
    if per_pdf is None:
        return None
    floor_s = fl["info"]["pdf_median_s"]
    return {"per_pdf_s": round(per_pdf, 3), "per_pdf_source": source, "workers": workers,
            "pdfs": info.get("pdfs"), "floor_s": round(floor_s, 3), "floor_bia": fl["info"]["bia"],
            "vs_floor": round(per_pdf / floor_s, 2) if floor_s else None}


def bia_pdf_note(c: dict[str, Any]) -> str:
    """'per-PDF median 0.61 s vs bare WeasyPrint floor 0.40 s (1.5×)' (what the figure is,
    when it is not the CLI's median)."""
    what = "median" if c["per_pdf_source"].startswith("median") else f"({c['per_pdf_source']})"
    ratio = "" if c["vs_floor"] is None else f" ({c['vs_floor']:.1f}×)"
    return f"per-PDF {what} {c['per_pdf_s']:.2f} s vs bare WeasyPrint floor {c['floor_s']:.2f} s{ratio}"


def row_counts(raw: Path) -> dict[str, Any]:
    """Rows of each entity's generated files (informative only: an error is reported, not raised)."""
    counts: dict[str, Any] = {}
    try:
        import duckdb

        with duckdb.connect() as con:
            for entity in ("interactions", "service_requests", "kb_views"):
                files = parquet_files(raw, entity)
                counts[entity] = con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()[0] \
                    if files else 0
    except Exception as e:  # noqa: BLE001 - row counts are informative only
        counts = {"error": str(e)}
    return counts


def stage_totals(stages: list[dict], floor_s: float, copy_s: float | None) -> dict[str, Any]:
    """Wall time, peak RSS and ratio to the floor of the stage groups (the copy floor's ratio
    for the cold load + ``dbt build``)."""
    def total(group: str, names: tuple[str, ...] | None = None) -> dict[str, float] | None:
        sel = [s for s in stages if s["group"] == group and "wall_s" in s
               and (names is None or any(s["name"].endswith(n) for n in names))]
        if not sel:
            return None
        wall = sum(s["wall_s"] for s in sel)
        return {"wall_s": round(wall, 3), "peak_rss_mb": max(s["peak_rss_mb"] for s in sel),
                "vs_floor": round(wall / floor_s, 2)}

    totals = {
        "report_stages": total("report"),
        "load_dbt_cold": total("report", ("load", "dbt build")),
        "rerun_nothing_new_load_dbt": total("rerun"),
        "one_new_month_load_dbt": total("month"),
    }
    if copy_s and totals["load_dbt_cold"]:
        totals["load_dbt_cold"]["vs_copy_floor"] = round(totals["load_dbt_cold"]["wall_s"] / copy_s, 2)
    return totals


def summarise(scale: float, stages: list[dict], fl: dict, headline: dict, diffs: list[str],
              raw: Path) -> dict[str, Any]:
    """The result: machine, rows, floors, stages, totals, budgets and the BIA PDF comparison."""
    floor_s = fl.get("inner_s") or fl["wall_s"]
    for s in stages:
        if "wall_s" in s:
            s["vs_floor"] = round(s["wall_s"] / floor_s, 2)
    copy = next((s for s in stages if s["group"] == "copy_floor" and s["status"] == "ok"), None)
    copy_s = copy.get("inner_s", copy["wall_s"]) if copy else None
    totals = stage_totals(stages, floor_s, copy_s)
    bia_pdf = bia_pdf_comparison(stages)
    if bia_pdf:
        next(s for s in stages if s["group"] == "bia")["info"]["vs_pdf_floor"] = bia_pdf
    budgets = budget_rows(scale, budget_measures(stages, totals))
    return {
        "scale": scale,
        "machine": _machine(),
        "rows": row_counts(raw),
        "copy_floor_s": None if copy_s is None else round(copy_s, 3),
        "floor": {"query_s": round(floor_s, 3), "wall_s": fl["wall_s"], "peak_rss_mb": fl["peak_rss_mb"],
                  "headline": headline},
        "floor_matches_marts": not diffs,
        "floor_vs_marts_differences": diffs[:20],
        "stages": stages,
        "totals": totals,
        "bia_pdf": bia_pdf,
        "budgets": budgets,
        "budget_note": None if budgets else NO_BUDGET,
    }


# --------------------------------------------------------------------------- output


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
    return note


def stage_table(result: dict[str, Any]) -> list[str]:
    """The stages and their totals as Markdown table lines."""
    lines = ["| stage | wall s | peak RSS MB | × floor | note |", "|---|---:|---:|---:|---|"]
    fl = result["floor"]
    lines.append(f"| floor: one DuckDB query on the Parquet files | {fl['query_s']:.2f} | "
                 f"{fl['peak_rss_mb']:.0f} | 1.00 | process {fl['wall_s']:.2f} s |")
    for s in result["stages"]:
        if s["group"] == "floor":
            continue
        if "wall_s" not in s:
            lines.append(f"| {s['name']} | – | – | – | {s['status']} |")
            continue
        lines.append(f"| {s['name']} | {s['wall_s']:.2f} | {s['peak_rss_mb']:.0f} | "
                     f"{s['vs_floor']:.1f} | {'; '.join(stage_notes(s))} |")
    t = result["totals"]
    for key, label in (("report_stages", "**make report, sum of stages (cold)**"),
                       ("load_dbt_cold", "**load + dbt build (cold)**"),
                       ("rerun_nothing_new_load_dbt", "**rerun, nothing new: load + dbt build**"),
                       ("one_new_month_load_dbt", "**one new month: load + dbt build**")):
        if t.get(key):
            lines.append(f"| {label} | {t[key]['wall_s']:.2f} | {t[key]['peak_rss_mb']:.0f} | "
                         f"{t[key]['vs_floor']:.1f} | |")
    return lines


def budget_table(result: dict[str, Any]) -> list[str]:
    """The budgets of the result's scale as Markdown table lines (one row saying there are none
    at a scale without budgets)."""
    lines = ["| budget | limit | measured | met |", "|---|---:|---:|---|"]
    if not result["budgets"]:
        lines.append(f"| {result.get('budget_note') or NO_BUDGET} | – | – | – |")
    for b in result["budgets"]:
        measured = "–" if b["measured"] is None else f"{b['measured']:,} {b['unit']}"
        met = "–" if b["met"] is None else ("yes" if b["met"] else "**no**")
        lines.append(f"| {b['name']} | {b['limit']:,} {b['unit']} | {measured} | {met} |")
    return lines


def floor_lines(result: dict[str, Any]) -> list[str]:
    """The cold load + ``dbt build`` against the copy floor, and the BIA batch against the BIA PDF
    floor, one line each (when both sides were measured)."""
    lines = []
    cold = result["totals"].get("load_dbt_cold") or {}
    if cold.get("vs_copy_floor"):
        lines.append(f"load + dbt build (cold) = {cold['vs_copy_floor']:.1f} × the copy floor "
                     f"({result['copy_floor_s']:.2f} s: DuckDB copying the same files into tables)")
    c = result.get("bia_pdf")
    if c:
        lines.append(f"BIA batch: {bia_pdf_note(c)}; per PDF = {c['per_pdf_source']}, {c['workers']} "
                     f"worker(s) at a time; floor = html_to_pdf alone on {c['floor_bia']}'s print HTML")
    return lines


def table(result: dict[str, Any]) -> str:
    """The result as Markdown: rows and machine, the stages, the floors, the budgets and whether
    the floor's figures equal the marts' (also what the bench prints)."""
    lines = [
        f"scale {scale_name(result['scale'])}: "
        + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items() if isinstance(v, int))
        + f"; {result['machine']['cpus']} cores, {result['machine']['memory_gb']} GB",
        "",
        *stage_table(result),
    ]
    extra = floor_lines(result)
    if extra:
        lines += ["", *extra]
    lines += ["", *budget_table(result), ""]
    lines.append("floor = marts: " + ("yes" if result["floor_matches_marts"] else
                                      "NO: " + "; ".join(result["floor_vs_marts_differences"][:5])))
    for file, column, reason, n in result.get("loader_rejects", []):
        lines.append(f"the loader rejected {n} row(s) of {file} ({column}: {reason}); the floor counts them")
    return "\n".join(lines)


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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        os.environ["CX311_ENGINE"] = args.engine  # every stage's process inherits it
    if args.child:
        return _child_main(args.child, args.params, args.result)
    skip = tuple(s.strip() for s in args.skip.split(",") if s.strip())
    unknown = set(skip) - set(SKIPPABLE)
    if unknown:
        parser.error(f"unknown --skip value(s): {', '.join(sorted(unknown))}")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    print(f"bench at scale {scale_name(args.scale)} into {args.out / scale_name(args.scale)}",
          file=sys.stderr, flush=True)
    result = run(args.scale, args.out, skip, args.year, args.bia_month, args.seed)
    print(table(result))
    print(f"\nwrote {Path(args.out).resolve() / result_name(args.scale)}")
    failed = [s["name"] for s in result["stages"] if s["status"] == "failed"]
    if failed:
        print(f"failed stages: {', '.join(failed)}", file=sys.stderr)
    if not result["floor_matches_marts"] and not result.get("loader_rejects"):
        print("the floor's headline figures differ from the marts'", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
