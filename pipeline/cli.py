"""Command-line interface: ``cx311 <command>`` (or ``python -m pipeline``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .paths import PROJECT_DIR

DEFAULT_RAW = PROJECT_DIR / "raw"
DEFAULT_OUTPUT = PROJECT_DIR / "output"
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".zip")


def has_extracts(raw_dir: Path) -> bool:
    """True when ``raw_dir`` holds any extract file (in a year folder or open_data/)."""
    if not raw_dir.is_dir():
        return False
    folders = [p for p in raw_dir.iterdir() if p.is_dir() and (p.name.isdigit() or p.name == "open_data")]
    return any(f.is_file() and f.name.lower().endswith(DATA_SUFFIXES) for d in folders for f in d.iterdir())


def is_demo(raw_dir: Path) -> bool:
    """True when the extracts are the generated demo data set (it leaves a marker file)."""
    return (raw_dir / "DEMO_DATA.md").exists()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed(label: str, func: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = func()
    _say(f"{label}: {time.perf_counter() - start:.1f} s")
    return result


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Generate the synthetic demo data set (2023 and 2024) into the raw folder."""
    from .demo import generate

    summary = _timed("demo data", lambda: generate(args.raw, scale=args.scale, seed=args.seed))
    _say(f"wrote demo data to {args.raw}: {summary}")
    return 0


def ensure_extracts(raw_dir: Path) -> None:
    """Generate the demo data set when the raw folder holds no extracts."""
    if has_extracts(raw_dir):
        return
    from .demo import generate

    _say(f"no extracts in {raw_dir}: generating the synthetic demo data set")
    _timed("demo data", lambda: generate(raw_dir))


def load_and_build(raw_dir: Path, output: Path, max_reject_rate: float) -> Path:
    """Load the extracts into the warehouse and run ``dbt build``; return the warehouse path."""
    import duckdb

    from .load import load
    from .reference import load_service_standards
    from .transform import build

    output.mkdir(parents=True, exist_ok=True)
    db_path = output / "warehouse.duckdb"
    summary = _timed("load", lambda: load(raw_dir, db_path, max_reject_rate=max_reject_rate))
    _say(
        f"  files loaded {len(summary.files_loaded)}, unchanged {len(summary.files_skipped)}; "
        f"rows read {summary.rows_read:,}, loaded {summary.rows_loaded:,}, "
        f"rejected {summary.rows_rejected:,}, duplicates collapsed {summary.duplicates_collapsed:,}"
    )
    with duckdb.connect(str(db_path)) as con:
        load_service_standards(raw_dir, con)
    if not _timed("dbt build", lambda: build(db_path, output)):
        _say("  nothing changed since the last build: dbt skipped")
    return db_path


def cmd_load(args: argparse.Namespace) -> int:
    """Load the raw extracts into the warehouse and run dbt build (no report)."""
    ensure_extracts(args.raw)
    load_and_build(args.raw, args.output, args.max_reject_rate)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Build the annual report for --year: load, dbt build, key_metrics.json, HTML and PDF."""
    from .manifest import inputs as manifest_inputs
    from .manifest import write_manifest
    from .metrics import key_metrics, write_key_metrics
    from .render import render_annual_report

    ensure_extracts(args.raw)
    db_path = load_and_build(args.raw, args.output, args.max_reject_rate)
    metrics = key_metrics(db_path, args.year)
    if metrics["interactions"] is None and metrics["service_requests"] is None:
        _say(f"error: the extracts in {args.raw} hold no data for {args.year}.")
        return 2
    out_dir = args.output / str(args.year)
    written = write_key_metrics(metrics, out_dir)
    meta = report_meta(args.raw, db_path, args.year)
    written += _timed("render", lambda: render_annual_report(metrics, meta, out_dir))
    written.append(write_manifest(out_dir, manifest_inputs(db_path, args.year), written))
    for path in written:
        _say(f"wrote {path}")
    return 0


def cmd_bia(args: argparse.Namespace) -> int:
    """Render the BIA monthly reports for --month (YYYY-MM): one HTML + PDF per BIA, index.html,
    bia_metrics.json and manifest.json in OUTPUT/bia/<month>/ (loads and builds what it needs)."""
    from .bia import BiaError, run_batch, summary_lines

    ensure_extracts(args.raw)
    db_path = load_and_build(args.raw, args.output, args.max_reject_rate)
    try:
        result = run_batch(
            db_path, args.raw, args.output, args.month, workers=args.workers, only=args.bia or None
        )
    except BiaError as error:
        _say(f"error: {error}")
        return 2
    for line in summary_lines(result):
        _say(line)
    if not result.ok:
        _say(f"error: {len(result.failed)} BIA report(s) failed: {', '.join(sorted(result.failed))}")
        return 1
    return 0


def cmd_bia_send(args: argparse.Namespace) -> int:
    """E-mail each BIA its report for --month: writes .eml files to OUTPUT/bia/<month>/outbox/;
    sends them by SMTP only with SMTP_HOST (SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS,
    SMTP_FROM) set AND --send (or SEND=1); never sends a BIA's report for a month twice unless --force."""
    import os

    from .send import SendError, send_reports

    send = args.send or os.environ.get("SEND", "").strip().lower() in ("1", "true", "yes")
    out_dir = args.output / "bia" / args.month
    if not (out_dir / "bia_metrics.json").exists():
        _say(f"no BIA reports in {out_dir}: rendering them first")
        code = cmd_bia(args)
        if code == 2:
            return code
    try:
        summary = send_reports(out_dir, args.raw, send=send, force=args.force, only=args.bia or None)
    except SendError as error:
        _say(f"error: {error}")
        return 2
    for line in summary.lines():
        _say(line)
    return 0 if summary.ok else 1


def report_meta(raw_dir: Path, db_path: Path, year: int) -> dict:
    """What the report says about its sources: demo notice, input files, data notes."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        files = con.execute(
            "SELECT source_file, rows_rejected, rejects_by_reason FROM marts.mart_data_quality "
            "WHERE extract_year = ? OR extract_year IS NULL ORDER BY source_file",
            [year],
        ).fetchall()
        closing = con.execute(
            "SELECT closing_times_available FROM marts.mart_sr_yearly WHERE created_year = ?", [year]
        ).fetchone()
        illustrative = con.execute(
            "SELECT count(*) FROM intermediate.int_service_standards WHERE illustrative"
        ).fetchone()[0]
    not_available = []
    if closing is not None and not closing[0]:
        not_available.append(
            "Closing times: the extract has no closing time for service requests, so time to "
            "close, the on-time rate and SRs open at year end are not available in this extract."
        )
    return {
        "demo": is_demo(raw_dir),
        # the analyst's narrative for the year (Markdown files); missing → neutral defaults
        "narrative_dir": raw_dir / "narrative" / str(year),
        "generated_from": [name for name, _, _ in files],
        "rejects": [{"file": name, "reasons": reasons} for name, rejected, reasons in files if rejected],
        "standards_illustrative": illustrative > 0,
        "cancelled_note": None,
        "not_available": not_available,
    }


def cmd_docs(args: argparse.Namespace) -> int:
    """Build the dbt documentation site (one static HTML file) into OUTPUT/docs."""
    import shutil

    from .transform import run_dbt

    db_path = args.output / "warehouse.duckdb"
    if not db_path.exists():
        _say(f"error: no warehouse at {db_path}: run `make load` (or `make report`) first.")
        return 2
    run_dbt(["docs", "generate", "--static"], db_path, args.output)
    docs = args.output / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.output / "dbt_target" / "static_index.html", docs / "index.html")
    _say(f"wrote {docs / 'index.html'}")
    return 0


def cmd_seeds(args: argparse.Namespace) -> int:
    """Regenerate the generated seeds (the City holiday calendar 2015-2035)."""
    from .seeds import write_holidays_seed

    _say(f"wrote {write_holidays_seed()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cx311", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cx311 {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=func.__doc__, description=func.__doc__)
        sub.set_defaults(func=func)
        sub.add_argument(
            "--raw", type=Path, default=DEFAULT_RAW, help="folder of raw extracts (default: raw/)"
        )
        return sub

    def add_state_options(sub: argparse.ArgumentParser) -> None:
        """Options of every command that loads and builds the warehouse."""
        sub.add_argument(
            "--output",
            type=Path,
            default=DEFAULT_OUTPUT,
            help="folder for all generated state (default: output/)",
        )
        sub.add_argument(
            "--max-reject-rate",
            type=float,
            default=0.01,
            help="fail a file whose rejected share exceeds this (default 0.01)",
        )

    demo = add("demo-data", cmd_demo_data)
    demo.add_argument("--scale", type=float, default=1.0, help="multiple of Toronto's volume (default 1)")
    demo.add_argument("--seed", type=int, default=311, help="random seed (default 311)")
    for name, func in (("load", cmd_load), ("report", cmd_report)):
        sub = add(name, func)
        add_state_options(sub)
        if name == "report":
            sub.add_argument("--year", type=int, required=True, help="calendar year to report on")
    for name, func in (("bia", cmd_bia), ("bia-send", cmd_bia_send)):
        sub = add(name, func)
        sub.add_argument("--month", required=True, help="month to report on, YYYY-MM (e.g. 2024-07)")
        add_state_options(sub)
        sub.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="render processes (default: one per core)",
        )
        sub.add_argument(
            "--bia",
            action="append",
            metavar="NAME",
            help="only this BIA (repeatable; default: every BIA in the seed)",
        )
        if name == "bia-send":
            sub.add_argument(
                "--send",
                action="store_true",
                help="really send by SMTP (also SEND=1); default: write .eml files only",
            )
            sub.add_argument(
                "--force", action="store_true", help="send again even if the send log shows it was sent"
            )
    docs = commands.add_parser("docs", help=cmd_docs.__doc__, description=cmd_docs.__doc__)
    docs.set_defaults(func=cmd_docs)
    docs.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="folder of generated state (default: output/)"
    )
    seeds = commands.add_parser("seeds", help=cmd_seeds.__doc__, description=cmd_seeds.__doc__)
    seeds.set_defaults(func=cmd_seeds)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as error:  # every pipeline error ends as one clear message
        from .load import LoadError
        from .reference import ReferenceError
        from .transform import TransformError

        if isinstance(error, (LoadError, ReferenceError, TransformError)):
            _say(f"error: {error}")
            return 1
        raise
