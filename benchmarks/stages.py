"""The bench's stages, child side: each runs in its own process
(``python -m benchmarks.stages --child <stage> --params <json> --result <file>``, started by
``benchmarks.runner.Bench``) and writes what it measured as JSON; ``inner_s`` is the time of
its core call measured inside the process."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .dbt_time import dbt_info, read_run_results, slowest_nodes, timed_run_dbt
from .floors import bia_pdf_floor, copy_floor, dbt_noop_floor, floor, render_floor, render_floor_inputs
from .names import engine

# The year's service requests as another system's export (its own column names, US-style
# timestamps, its own status words), beside the same rows as contract CSV.
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


def _stage_dbt(p: dict) -> dict:
    """``pipeline.transform.build`` as ``make report`` runs it, with ``run_dbt`` timed inside."""
    from pipeline.transform import build

    out = Path(p["output"])
    record: dict[str, Any] = {}
    with timed_run_dbt(record):
        start = time.perf_counter()
        ran = build(out / "warehouse.duckdb", out, engine=engine())
        info: dict[str, Any] = {"inner_s": time.perf_counter() - start, "dbt_ran": ran}
    if ran:
        results = read_run_results(out)
        info["slowest_nodes"] = slowest_nodes(results)
        info["dbt"] = dbt_info(record, results)
    return info


def _stage_dbt_noop(p: dict) -> dict:
    return dbt_noop_floor(Path(p["output"]) / "warehouse.duckdb", Path(p["work"]), engine())


def _stage_dbt_unit(p: dict) -> dict:
    """dbt's unit tests, once (production builds leave them out): ``dbt test --select
    test_type:unit`` through ``run_dbt``, in a folder of their own (the build's
    ``run_results.json`` stays)."""
    from pipeline import transform

    work = Path(p["work"])
    shutil.rmtree(work, ignore_errors=True)
    record: dict[str, Any] = {}
    with timed_run_dbt(record):
        start = time.perf_counter()
        transform.run_dbt(["test", "--select", "test_type:unit"], Path(p["output"]) / "warehouse.duckdb",
                          work, engine=engine())
        seconds = time.perf_counter() - start
    return {"inner_s": seconds, "dbt": dbt_info(record, read_run_results(work))}


def _stage_render_inputs(p: dict) -> dict:
    out = Path(p["output"])
    return render_floor_inputs(out / "warehouse.duckdb", Path(p["raw"]), int(p["year"]), Path(p["html"]))


def _stage_render_floor(p: dict) -> dict:
    return render_floor(Path(p["html"]), Path(p["output"]) / "warehouse.duckdb", int(p["year"]))


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


def _stage_bia_floor(p: dict) -> dict:
    return bia_pdf_floor(Path(p["output"]) / "warehouse.duckdb", Path(p["raw"]), p["month"])


CHILD_STAGES: dict[str, Callable[[dict], dict]] = {
    "generate": _stage_generate,
    "floor": _stage_floor,
    "copy_floor": _stage_copy_floor,
    "load": _stage_load,
    "dbt": _stage_dbt,
    "dbt_noop": _stage_dbt_noop,
    "dbt_unit": _stage_dbt_unit,
    "render_inputs": _stage_render_inputs,
    "render_floor": _stage_render_floor,
    "metrics": _stage_metrics,
    "render": _stage_render,
    "manifest": _stage_manifest,
    "bia_floor": _stage_bia_floor,
    "mapped_setup": _stage_mapped_setup,
    "preview": _stage_preview,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stages", description="one bench stage")
    parser.add_argument("--child", required=True, choices=sorted(CHILD_STAGES))
    parser.add_argument("--params", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)
    info = CHILD_STAGES[args.child](json.loads(args.params))
    Path(args.result).write_text(json.dumps(info, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
