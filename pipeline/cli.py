"""cx311: the 311 customer-experience pipeline and its accessible reports.

Raw extracts (raw/<YEAR>/...) are checked and loaded into a DuckDB warehouse, dbt builds the
figures, and the reports are written as HTML and PDF (PDF/UA-1) under output/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from .contract import has_extracts
from .errors import CxError, UsageError, disk_full, full_disk_path
from .outputs import os_error_message, private_tmp, publish, recover, run_lock, staged
from .paths import PROJECT_DIR

if TYPE_CHECKING:
    from .ingest import LoadSummary

DEFAULT_RAW = PROJECT_DIR / "raw"
DEFAULT_OUTPUT = PROJECT_DIR / "output"
CACHE = ".cache"  # OUTPUT/.cache: what a run may reuse that is not published (the drawn charts)

Progress = Callable[[str, int, int], None]


class Console:
    """What the user sees on stderr: one line per finished stage, and progress bars for the
    stages that take a while (off with --quiet).

    When stderr is not a terminal (a log file, CI, cron), there is no bar: a line says when
    each stage starts, and during a long stage a line such as ``render 2/3`` or
    ``BIA PDFs 40/79`` comes at most every ``LOG_EVERY`` seconds."""

    LOG_EVERY = 10.0  # seconds between two progress lines in a log

    def __init__(self, quiet: bool = False, log: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = quiet
        self.log = (not sys.stderr.isatty()) if log is None else log  # not a terminal: log lines
        self.clock = clock

    def say(self, message: str) -> None:
        if not self.quiet:
            click.echo(message, err=True)

    def out(self, message: str) -> None:
        """A command's own result (check-extracts): standard output, even with --quiet."""
        click.echo(message)

    def started(self, label: str) -> None:
        """In a log, the line that says a stage started (a terminal shows its bar instead)."""
        if self.log:
            self.say(f"{label}: started")

    def ended(self, label: str, seconds: float) -> None:
        """In a log, the line that says a stage ended (where no ``timed`` line does)."""
        if self.log:
            self.say(f"{label}: {seconds:.1f} s")

    def timed(self, label: str, func: Callable[[], object]) -> object:
        self.started(label)
        start = time.perf_counter()
        result = func()
        self.say(f"{label}: {time.perf_counter() - start:.1f} s")
        return result

    @contextlib.contextmanager
    def progress(self, label: str) -> Iterator[Progress | None]:
        """A progress callback ``(item, done, total)``: a bar on a terminal, a line at most
        every LOG_EVERY seconds in a log, None when quiet."""
        if self.quiet:
            yield None
            return
        if self.log:
            yield self._log_progress(label)
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn(f"{label:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("{task.description}"), transient=True,
                       console=__import__("rich.console").console.Console(stderr=True))
        task = bar.add_task("", total=None)
        with bar:
            yield lambda item, done, total: bar.update(task, completed=done, total=total, description=item)

    def _log_progress(self, label: str) -> Progress:
        last = [self.clock()]  # the stage's start, then the last line printed

        def step(item: str, done: int, total: int) -> None:
            now = self.clock()
            if now - last[0] >= self.LOG_EVERY and done < total:
                last[0] = now
                self.say(f"{label} {done}/{total}")
        return step


pass_console = click.make_pass_decorator(Console)


def raw_option(func: Callable) -> Callable:
    return click.option("--raw", type=click.Path(path_type=Path), default=DEFAULT_RAW, show_default="raw/",
                        help="Folder of raw extracts, laid out as raw/<YEAR>/… (see docs/data-contract.md).")(func)


def state_options(func: Callable) -> Callable:
    """Options of every command that loads and builds the warehouse."""
    func = click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", envvar="CX311_ENGINE",
                        show_default=True, expose_value=False, callback=_keep_engine,
                        help="What runs the dbt models: DuckDB in this process, or Spark (the spark "
                             "extra's lock, requirements/spark.txt, and Java 17). The documents are the same (README: When one machine is "
                             "not enough).")(func)
    func = click.option("--wait", is_flag=True,
                        help="If another run is using OUTPUT, wait for it instead of stopping.")(func)
    func = click.option("--max-reject-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True,
                        help="Stop when a file's rejected rows exceed this share of its rows.")(func)
    func = click.option("--output", type=click.Path(path_type=Path), default=DEFAULT_OUTPUT,
                        show_default="output/", help="Folder for everything generated: warehouse, reports, dbt files.")(func)
    return raw_option(func)


def force_option(func: Callable) -> Callable:
    return click.option("--force", is_flag=True,
                        help="Lay out every PDF and draw every chart again, even those whose HTML is "
                             "unchanged since the published set (which are otherwise copied from it).")(func)


def bia_options(func: Callable) -> Callable:
    func = click.option("--bia", "only", multiple=True, metavar="NAME",
                        help="Only this BIA (repeatable; default: every BIA in the seed).")(func)
    func = click.option("--workers", type=click.IntRange(1), default=os.cpu_count() or 1,
                        show_default="one per core", help="Processes laying out the PDFs.")(func)
    func = click.option("--month", required=True, callback=_check_month, metavar="YYYY-MM",
                        help="Month to report on, e.g. 2024-07.")(func)
    return state_options(func)


def _keep_engine(ctx: click.Context, param: click.Parameter, value: str) -> str:
    ctx.meta["engine"] = value
    return value


def _check_month(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        dt.datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month: write it as YYYY-MM, e.g. 2024-07.") from None
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cx311", prog_name="cx311")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only: no progress, no stage timings.")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error, for a bug report.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, debug: bool) -> None:
    """cx311: the 311 customer-experience pipeline and its accessible reports.

    Raw extracts are checked and loaded into a DuckDB warehouse, dbt builds every figure, and
    the reports are written as HTML and PDF (PDF/UA-1) under the output folder.
    """
    ctx.obj = Console(quiet=quiet)
    ctx.meta["debug"] = debug


EXPECTED = ("raw/<YEAR>/interactions*, service_requests* or kb_views* files (.csv, .csv.gz or "
            ".parquet), City Open Data files in raw/open_data/, Open311 request lists in raw/open311/ "
            "(.json), or another system's exports with a mapping in raw/mapped/ (see "
            "docs/bring-your-own-extracts.md)")


def ensure_extracts(console: Console, raw_dir: Path) -> None:
    """Check the raw folder before any work. Only the repository's own raw/ (no --raw given)
    gets the demo data set, and only when it holds no extract; demo files and other extracts
    never mix."""
    from .contract import foreign_extracts, is_demo

    explicit = click.get_current_context().get_parameter_source("raw") != ParameterSource.DEFAULT
    if explicit and not raw_dir.is_dir():
        raise UsageError(f"RAW folder not found: {raw_dir}. Give the folder that holds your extracts.")
    if has_extracts(raw_dir):
        foreign = foreign_extracts(raw_dir) if is_demo(raw_dir) else []
        if foreign:
            raise UsageError(
                f"{raw_dir} holds the synthetic demo data set and other extracts: {', '.join(foreign)}. "
                "Demo and real rows must not mix: run `make clean` (it removes only the unchanged demo "
                "files), or put your extracts in a folder of their own and give it as RAW.")
        return
    if explicit:
        from .contract import non_extract_paths

        seen = non_extract_paths(raw_dir)
        found = ("It holds " + "; ".join(f"{rel} ({why})" for rel, why in seen[:10])
                 + (f"; and {len(seen) - 10} more files" if len(seen) > 10 else "") + ". ") if seen else \
            "It holds no files. "
        raise UsageError(f"{raw_dir} holds no extracts. {found}Expected {EXPECTED}. "
                         "`make demo-data` makes the synthetic demo data set.")
    from .demo import generate

    console.say(f"no extracts in {raw_dir}: generating the synthetic demo data set")
    console.timed("demo data", lambda: generate(raw_dir))


@contextlib.contextmanager
def owned(console: Console, output: Path, wait: bool) -> Iterator[None]:
    """Run with OUTPUT to ourselves: the run lock, what a killed run left cleaned up, and this
    run's temporary files kept inside OUTPUT (removed at the end)."""
    ctx = click.get_current_context()
    shown = {k: v for k, v in ctx.params.items() if k in ("year", "month", "raw", "output") and v}
    command = " ".join([ctx.command_path, *(f"--{k} {v}" for k, v in shown.items())])
    with run_lock(output, command, wait=wait, say=console.say):
        for note in recover(output):
            console.say(note)
        with private_tmp(output):
            yield


def load_and_build(console: Console, raw_dir: Path, output: Path, max_reject_rate: float,
                   exposure: str | None = None, before_build: Callable[[], None] | None = None,
                   building: Callable[[], None] | None = None) -> Path:
    """Load the extracts into the warehouse and run ``dbt build`` (only what the dbt exposure
    ``exposure`` reads, when given); return the warehouse path. While dbt builds this process
    only waits for its child: ``before_build`` is called between the load and the build, and
    ``building`` once dbt runs (at its first finished node; not when nothing is built).

    When the load has files to load, dbt's process starts then (``transform.DbtChild``): it
    imports dbt and parses the project while the load runs; a build that does not come (nothing
    changed, a failure) ends it at once."""
    from .ingest import load, load_service_standards
    from .profile import load_profile
    from .transform import DbtChild, build
    from .warehouse import connect, set_aside_if_unreadable

    db_path = output / "warehouse.duckdb"
    unreadable = set_aside_if_unreadable(db_path)
    if unreadable is not None:
        console.say(f"the warehouse {db_path} could not be read ({unreadable[1]}): moved it to "
                    f"{unreadable[0]}; building a new one from {raw_dir}")
    engine = click.get_current_context().meta.get("engine", "duckdb")
    with DbtChild(db_path, output, engine) as child:
        def loading() -> None:  # the load has read the profile (it is cached): its values are the build's --vars
            child.start(load_profile(raw_dir).dbt_vars())

        with console.progress("load") as progress:
            summary = console.timed("load", lambda: load(raw_dir, db_path, max_reject_rate, progress=progress,
                                                         loading=loading))
        say_loaded(console, summary)
        con = connect(db_path)
        try:
            load_service_standards(raw_dir, con)
        finally:
            con.close()
        if before_build is not None:
            before_build()
        label = "dbt build" if engine == "duckdb" else f"dbt build ({engine})"
        with console.progress(label) as progress:
            ran = console.timed(label, lambda: build(db_path, output, progress=calling_first(building, progress),
                                                     engine=engine, exposure=exposure, say=console.say,
                                                     child=child))
    if not ran:
        console.say("  nothing changed since the last build: dbt skipped")
    say_version_decisions(console, db_path)
    return db_path


def say_loaded(console: Console, summary: LoadSummary) -> None:
    """What the load did: its counts, the encodings read and its notes."""
    console.say(
        f"  files loaded {len(summary.files_loaded)}, unchanged {len(summary.files_skipped)}; "
        f"rows read {summary.rows_read:,}, loaded {summary.rows_loaded:,}, "
        f"rejected {summary.rows_rejected:,}, duplicates collapsed {summary.duplicates_collapsed:,}"
    )
    for name, encoding in sorted(summary.encodings.items()):
        console.say(f"  {name}: read as {encoding}")
    for note in summary.notes:  # nothing in raw/ is ignored without a word
        console.say(f"  note: {note}")
        if " with no mapping in " in note.note:
            console.say("    (add these values under the mapping's `values`; "
                        "`python -m pipeline check-extracts` shows what a mapping reads)")


def calling_first(first: Callable[[], None] | None, progress: Progress | None) -> Progress | None:
    """``progress``, calling ``first()`` before its first step (once)."""
    if first is None:
        return progress
    called = False

    def step(item: str, done: int, total: int) -> None:
        nonlocal called
        if not called:
            called = True
            first()
        if progress is not None:
            progress(item, done, total)
    return step


# What chose the version of an SR that counts, when updated_at did not (mart_sr_versions)
VERSION_RULES = {
    "delivery order": "the delivery order",
    "modification time": "the modification times (then names) of files first loaded together, "
                         "which a copy can change",
    "line order": "the later line of one file",
}


def say_version_decisions(console: Console, db_path: Path) -> None:
    """Say when a rule other than updated_at chose which version of an SR counts."""
    from .warehouse import version_decisions

    other = {rule: n for rule, n in version_decisions(db_path).items() if rule in VERSION_RULES}
    if other:
        console.say(f"  {sum(other.values()):,} SR(s) delivered in more than one version with no updated_at "
                    "to tell which is newer; the version that counts was chosen by "
                    + "; ".join(f"{VERSION_RULES[rule]}: {n:,}" for rule, n in sorted(other.items())))


@cli.command("demo-data")
@raw_option
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Multiple of Toronto's 2023-2024 volume.")
@click.option("--seed", type=int, default=311, show_default=True, help="Random seed.")
@click.option("--remove", is_flag=True,
              help="Delete the demo files instead (only those unchanged since they were generated).")
@pass_console
def demo_data(console: Console, raw: Path, scale: float, seed: int, remove: bool) -> None:
    """Generate the synthetic demo data set (2023 and 2024) into the raw folder.

    The rows are synthetic, calibrated to figures 311 Toronto published; DEMO_DATA.md marks
    the folder as demo data, with the SHA-256 of every file it wrote, and every report made
    from it says so. A run refuses a folder that holds demo files and other extracts.
    """
    from .contract import extract_paths, is_demo
    from .demo import generate
    from .demo import remove as remove_demo

    if remove:
        removed, kept = remove_demo(raw)
        console.say(f"removed {len(removed)} demo file(s) from {raw}"
                    + (f"; kept {', '.join(kept)} (changed since generated)" if kept else ""))
        return
    if extract_paths(raw) and not is_demo(raw):
        raise UsageError(f"{raw} already holds extracts that are not demo data: the demo set goes "
                         "into a folder of its own (--raw).")
    summary = console.timed("demo data", lambda: generate(raw, scale=scale, seed=seed))
    console.say(f"wrote demo data to {raw}: {summary}")


@cli.command()
@state_options
@pass_console
def load(console: Console, raw: Path, output: Path, max_reject_rate: float, wait: bool) -> None:
    """Load the raw extracts into the warehouse and run dbt build (no report).

    Rows that break the data contract are set aside with their file, line, column and reason;
    the rest load. With no extracts in the raw folder, the demo data set is generated first.
    """
    ensure_extracts(console, raw)
    with owned(console, output, wait):
        load_and_build(console, raw, output, max_reject_rate)


@cli.command("check-extracts")
@raw_option
@click.option("--rows", type=click.IntRange(0, 100), default=3, show_default=True,
              help="First rows shown per file, as contract rows.")
@pass_console
def check_extracts(console: Console, raw: Path, rows: int) -> None:
    """Read every extract as the load would and say what it found; write nothing.

    For writing a mapping (raw/mapped/<name>.yaml): per file the rows read, loaded, rejected and
    collapsed and its first rows as contract rows; the source values no mapping maps; the
    rejects by reason; the years the rows cover; and every file in RAW that is not read, with
    the reason. Nothing is written to OUTPUT or the raw folder."""
    from .ingest.dry_run import check_extracts as dry_run

    found = dry_run(raw, sample=rows)
    if not found.files and not found.notes:
        raise UsageError(f"{raw} holds no extracts. Expected {EXPECTED}.")
    for f in found.files:
        console.out(f"{f.file} ({f.entity}, {f.file_format}): read {f.rows_read:,}, loaded {f.rows_loaded:,}, "
                    f"rejected {f.rows_rejected:,}, duplicates collapsed {f.duplicates_collapsed:,}")
        for row in f.first_rows:
            console.out("  " + ", ".join(f"{k}={v}" for k, v in row.items() if v is not None))
    for file, column, reason, n in found.rejects:
        console.out(f"rejected: {file}: {n:,} row(s), {reason} in column {column}")
    for note in found.notes:
        console.out(f"note: {note}")
    for entity, years in found.years.items():
        console.out(f"{entity}: {', '.join(map(str, years))}")


@cli.command()
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="Calendar year to report on.")
@click.option("--final", is_flag=True, envvar="FINAL",
              help="Refuse to render a draft: stop (exit 1) when any narrative file or report.yaml key "
                   "of RAW/narrative/<YEAR>/ is missing, listing them.")
@force_option
@state_options
@pass_console
def report(console: Console, year: int, raw: Path, output: Path, max_reject_rate: float, wait: bool,
           final: bool, force: bool) -> None:
    """The annual report for a year: load, dbt build, key_metrics.json, HTML and PDF.

    Writes the annual report, Appendix A (key metrics with charts) and Appendix B (text only),
    each as HTML and PDF, with key_metrics.json/.csv and manifest.json, to OUTPUT/<YEAR>/.

    The report's words come from RAW/narrative/<YEAR>/ (report.yaml and Markdown files; see
    report_templates/narrative/README.md). What is missing there falls back to a neutral
    default and makes the documents a DRAFT: the console lists it; --final refuses to render.

    Demo data: when the raw folder holds no extract (no raw/<YEAR>/interactions*,
    service_requests* or kb_views* file and no raw/open_data/ file), the synthetic demo data
    set is generated into it first, and every document says it is demo data.

    A PDF whose HTML, and everything it embeds, is byte-identical to the published set's is
    copied from it, not laid out again (checked by hash; --force lays out every PDF again).
    """
    from .report.head_start import HeadStart
    from .report.pdf import Layouts

    ensure_extracts(console, raw)
    check_narrative(console, raw, year, final)
    with owned(console, output, wait):
        final = output / str(year)
        layouts = Layouts.of(final, force)
        # the PDF workers, the renderer's imports, templates and chart runtime, while dbt builds
        with HeadStart(layouts.sure_to_lay_out(pdf_names(year)), output / CACHE / "templates") as head:
            db_path = load_and_build(console, raw, output, max_reject_rate, exposure=REPORT_EXPOSURE,
                                     before_build=head.fork, building=head.warm_up)
            head.warm_up()  # (when nothing was built: beside the key metrics)
            written = _report(console, raw, output, db_path, year, final, layouts, head)
    for path in written:
        console.say(f"wrote {final / path.name}")


# The dbt exposure of the annual report and its appendices (dbt_project/models/marts/_exposures.yml):
# `report` builds only the models it reads, not the BIA reports' (about 0.8 s of a cold build).
REPORT_EXPOSURE = "cx_annual_report"


def pdf_names(year: int) -> list[str]:
    """The file names of the year's three PDFs."""
    from .report.context import DOCUMENTS

    return [DOCUMENTS[kind][0].format(year=year) + ".pdf" for kind in DOCUMENTS]


def _report(console: Console, raw: Path, output: Path, db_path: Path, year: int, final: Path, layouts,
            head) -> list[Path]:
    """After a good build: the key metrics and the documents, published to ``final``."""
    from .manifest import write_manifest
    from .metrics import key_metrics, write_key_metrics
    from .report import render_annual_report, report_meta
    from .warehouse import input_files

    metrics = key_metrics(db_path, year)
    if metrics["interactions"] is None and metrics["service_requests"] is None:
        raise UsageError(f"The extracts in {raw} hold no data for {year}{covered_years(db_path)}.")
    with staged(output, final) as work:
        written = write_key_metrics(metrics, work)
        meta = report_meta(raw, db_path, year)
        say_unavailable(console, metrics, meta["not_available"])
        with caches(output, layouts.force), console.progress("render") as progress:
            written += console.timed("render", lambda: render_annual_report(metrics, meta, work, progress,
                                                                           layouts, head))
        say_reused(console, layouts)
        written.append(write_manifest(work, input_files(db_path, year), written,
                                      metrics["settings"], layouts.keys))  # last
        publish(work, final)
    return written


@contextlib.contextmanager
def caches(output: Path, force: bool) -> Iterator[None]:
    """While the command runs: the drawn charts kept in OUTPUT/.cache/charts (``--force``: all
    drawn again) and the compiled templates in OUTPUT/.cache/templates."""
    from .report.charts import use_chart_cache
    from .report.environment import use_template_cache

    use_chart_cache(output / CACHE / "charts", redraw=force)
    use_template_cache(output / CACHE / "templates")
    try:
        yield
    finally:
        use_chart_cache(None)
        use_template_cache(None)


def say_reused(console: Console, layouts) -> None:
    """Which PDFs were copied from the published set and which were laid out."""
    if layouts.reused:
        console.say("  reused the published PDF (its HTML and what it embeds are unchanged): "
                    + ", ".join(layouts.reused))
        console.say("  laid out: " + (", ".join(layouts.laid_out) if layouts.laid_out else "none"))


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_narrative(console: Console, raw: Path, year: int, final: bool) -> None:
    """Before any work: validate RAW/narrative/<YEAR>/ and list what falls back to a default
    (the documents are then a draft). With ``final``, a draft stops the run (exit 1)."""
    from .report.narrative import DraftError, missing_items

    missing = missing_items(raw / "narrative" / str(year))
    if not missing:
        return
    items = [f"{_shown(m['path'])} ({m['what']})" for m in missing]
    if final:
        raise DraftError(
            f"--final: the {year} report would be a draft, so nothing was rendered. Missing: "
            + "; ".join(items) + ". Write them (report_templates/narrative/ holds the neutral defaults "
            "to start from, and its README the keys of report.yaml), or render without --final.")
    console.say(f"draft: the {year} documents are marked DRAFT; their text falls back to the neutral "
                "default for:")
    for item in items:
        console.say(f"  {item}")
    console.say("  create these (defaults to start from: report_templates/narrative/); --final refuses a draft")


def say_unavailable(console: Console, metrics: dict, notes: list[str]) -> None:
    """What the documents will leave out, before rendering: what the extracts do not hold (the
    sentence the documents say it in), then ``notes`` (from the report's sources) and the
    comparisons with the prior year that cannot be made."""
    from .report.sources import missing_comparisons, not_held

    held = not_held(metrics)
    notes = ([held.sentence] if held.sentence else []) + list(notes) + missing_comparisons(metrics)
    if notes:
        console.say(f"not available in the extracts for {metrics['year']} (the documents say so):")
        for note in notes:
            console.say(f"  {note}")


def covered_years(db_path: Path) -> str:
    """' (they cover 2023 to 2024)': the years the loaded extracts hold, for a message."""
    from .warehouse import extract_years

    years = extract_years(db_path)
    return f" (they cover {years[0]} to {years[-1]})" if years else ""


def _render_bia(console: Console, raw: Path, output: Path, max_reject_rate: float, month: str,
                workers: int, only: tuple[str, ...], force: bool = False) -> bool:
    """Load, build and render the month's BIA reports, published as one set (keeping the
    month's send log, so nothing is e-mailed twice); the PDFs whose HTML is unchanged since the
    published set are copied from it, unless ``force``."""
    from .bia import EXPOSURE, SEND_LOG, run_batch, summary_lines

    db_path = load_and_build(console, raw, output, max_reject_rate, exposure=EXPOSURE)
    final = output / "bia" / month
    console.started("BIA PDFs")
    with staged(output, final) as work, caches(output, force), console.progress("BIA PDFs") as progress:
        result = run_batch(db_path, raw, work, month, workers=workers, only=list(only) or None,
                           progress=progress, published=final, force=force)
        publish(result.out_dir, final, keep=(SEND_LOG,))
    console.ended("BIA PDFs", result.seconds)
    result.out_dir = final
    for line in summary_lines(result):
        console.say(line)
    if not result.ok:
        click.echo(f"error: {len(result.failed)} BIA report(s) failed: {', '.join(sorted(result.failed))}",
                   err=True)
    return result.ok


@cli.command()
@bia_options
@force_option
@pass_console
def bia(console: Console, month: str, workers: int, only: tuple[str, ...], raw: Path, output: Path,
        max_reject_rate: float, wait: bool, force: bool) -> None:
    """The BIA monthly reports for a month: one accessible PDF and HTML per Business
    Improvement Area, with index.html, bia_metrics.json and manifest.json, in
    OUTPUT/bia/<MONTH>/ (loads and builds what it needs first).

    A BIA whose report fails is named at the end; the others are still written. A PDF whose
    HTML is unchanged since the published set is copied from it (--force: laid out again).
    """
    ensure_extracts(console, raw)
    with owned(console, output, wait):
        ok = _render_bia(console, raw, output, max_reject_rate, month, workers, only, force)
    if not ok:
        sys.exit(1)


def _optional_month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if not value else _check_month(ctx, param, value)


@cli.command()
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="Calendar year of the documents.")
@click.option("--month", callback=_optional_month, metavar="YYYY-MM",
              help="Also serve the BIA reports of this month, e.g. 2024-07.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port; the URL is printed).")
@state_options
@pass_console
def preview(console: Console, year: int, month: str | None, port: int, raw: Path, output: Path,
            max_reject_rate: float, wait: bool) -> None:
    """A live preview of the year's documents while you write: http://127.0.0.1:8000/.

    Builds first if the extracts changed (as `report` does), then serves the annual report and
    Appendix A and B as HTML (and the BIA reports of --month) on 127.0.0.1 only. A save in
    RAW/narrative/<YEAR>/ or report_templates/ renders the HTML again in under a second (no
    dbt, no PDF) and the open pages reload themselves; an error in a narrative file or
    report.yaml shows in the page, with file and line, until the next good save. When an
    extract, RAW/reference/ or the city profile changes, the page says so and the preview
    rebuilds. It lays out no PDF: `make report` does. Ctrl-C stops it.
    """
    from .preview import Figures

    ensure_extracts(console, raw)
    with owned(console, output, wait):
        db_path = load_and_build(console, raw, output, max_reject_rate)
        figures = Figures.read(db_path, raw, year, month)
    with caches(output, False):
        _preview(console, raw, output, year, month, port, max_reject_rate, db_path, figures)


def _preview(console: Console, raw: Path, output: Path, year: int, month: str | None, port: int,
             max_reject_rate: float, db_path: Path, figures) -> None:
    from .preview import Figures, Site, serve

    site = Site(figures.draw(), raw, year, month)
    site.render()
    if site.error:
        console.say(f"the documents could not be rendered (the page says why): {site.error}")

    def reread() -> Figures:  # after a rebuild: the figures under the run lock, then the charts
        from .outputs import run_lock

        with run_lock(output, "preview (reading the figures)", wait=True, say=console.say):
            figures = Figures.read(db_path, raw, year, month)
        return figures.draw()

    explicit = click.get_current_context().get_parameter_source("raw") != ParameterSource.DEFAULT
    rebuild = [sys.executable, "-m", "pipeline", "load", "--output", str(output), "--wait",
               "--max-reject-rate", str(max_reject_rate),
               "--engine", click.get_current_context().meta.get("engine", "duckdb"),
               *(["--raw", str(raw)] if explicit else [])]
    serve(site, port, rebuild, reread, console.say)


@cli.command("bia-send")
@bia_options
@click.option("--send", "really_send", is_flag=True, envvar="SEND",
              help="Really send by SMTP (also SEND=1); without it only .eml files are written.")
@click.option("--force", is_flag=True, help="Send again even if the send log shows it was sent.")
@pass_console
def bia_send(console: Console, month: str, workers: int, only: tuple[str, ...], raw: Path, output: Path,
             max_reject_rate: float, wait: bool, really_send: bool, force: bool) -> None:
    """E-mail each BIA its report for a month.

    Recipients come from raw/reference/bia_contacts.csv, with the columns bia_name, email and
    (optional) contact_name: one row per recipient, so a BIA may have several. Each message is written as an .eml
    file to OUTPUT/bia/<MONTH>/outbox/. It is sent by SMTP only with --send (or SEND=1) and
    SMTP_HOST set (also SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS, SMTP_FROM,
    SMTP_REPLY_TO); a send log keeps a BIA's report for a month from being sent twice, unless
    --force.
    """
    from .bia import send_reports

    out_dir = output / "bia" / month
    with owned(console, output, wait):
        if not (out_dir / "bia_metrics.json").exists():
            console.say(f"no BIA reports in {out_dir}: rendering them first")
            ensure_extracts(console, raw)
            _render_bia(console, raw, output, max_reject_rate, month, workers, only)
        summary = send_reports(out_dir, raw, send=really_send, force=force, only=list(only) or None)
    for line in summary.lines():
        console.say(line)
    if not summary.ok:
        sys.exit(1)


@cli.command()
@click.option("--output", type=click.Path(path_type=Path), default=DEFAULT_OUTPUT, show_default="output/",
              help="Folder holding the warehouse; the site goes to OUTPUT/docs/.")
@pass_console
def docs(console: Console, output: Path) -> None:
    """The dbt documentation site (lineage, tests, exposures) as one offline HTML file,
    OUTPUT/docs/index.html. Needs a built warehouse (make load)."""
    import shutil

    from .transform import run_dbt

    db_path = output / "warehouse.duckdb"
    if not db_path.exists():
        raise UsageError(f"There is no warehouse at {db_path}: run `make load` (or `make report`) first.")
    with owned(console, output, wait=False):
        run_dbt(["docs", "generate", "--static"], db_path, output)
    site = output / "docs"
    site.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(output / "dbt_target" / "static_index.html", site / "index.html")
    console.say(f"wrote {site / 'index.html'}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; an expected failure prints one paragraph and returns its exit status."""
    try:
        cli.main(args=argv, prog_name="cx311", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except CxError as error:
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            traceback.print_exc()
        click.echo(f"error: {error}", err=True)
        return error.exit_code
    except OSError as error:  # a full disk, an unreadable file, a folder that is a file
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            traceback.print_exc()
        click.echo(f"error: {os_error_message(error)}", err=True)
        return 1
    except Exception as error:  # a full disk as DuckDB reports it, wherever the warehouse is written
        full = full_disk_path(str(error))
        if full is None:
            raise
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            traceback.print_exc()
        click.echo(f"error: {disk_full(full)}", err=True)
        return 1
    except SystemExit as done:
        return int(done.code or 0)
    return 0
