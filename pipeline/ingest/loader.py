"""Load the raw 311 extracts into the warehouse's landing tables (schema ``raw``).

The contract, in brief (the full text is the project's data contract, docs/data-contract.md,
with its bad-input catalogue):

* **Layout.** ``<raw>/<YEAR>/interactions*``, ``service_requests*`` and ``kb_views*`` files
  (``.csv``, ``.csv.gz`` or ``.parquet``; YEAR is any 4-digit folder);
  ``<raw>/open_data/*.{csv,csv.gz,zip}`` in the City of Toronto Open Data format (either header
  variant), loaded as service requests with a stable synthetic id ``OD-<sha8>-<line>`` (sha8 =
  first 8 hex digits of the file's SHA-256) and ``closed_at_available = false``; and the
  city profile's BIA boundaries (by default ``<raw>/reference/bia_boundaries.geojson``) used to
  fill a blank ``bia`` from the coordinates (point in polygon, property ``bia_name``). Every other file is ignored *and listed*
  in ``LoadSummary.notes`` with the reason (``contract.non_extract_paths``; README*,
  DEMO_DATA.md, dotfiles, ``reference/`` and ``narrative/`` are not listed), as are the columns
  a loaded file has that are not read (not in the contract, or an earlier column has the same
  normalised name). A loaded file's notes on its columns are also kept in ``raw.load_notes``
  (they name columns, never a value), as its encoding is in ``raw.load_audit``, so the
  report's data notes say them on every later run too; the files that are not extracts are
  listed again from the raw folder when a report is made.
* **Values.** Channels, interaction types, outcomes and statuses are normalised (lower case,
  spaces/hyphens to underscores, the City's status spellings mapped). Timestamps become
  instants: an explicit UTC offset is honoured, otherwise the time is local America/Toronto;
  in the autumn repeated hour the first (EDT) occurrence is taken; a local time that does not
  exist (spring-forward gap, e.g. 2024-03-10 02:30) is rejected as ``unparseable timestamp``.
  Accepted forms: ``2024-07-16 15:04:05``, ``2024-07-16T15:04:05``,
  ``2024-07-16T15:04:05-04:00``, ``2024-07-16 15:04:05.0000000``, ``16/Jul/2024 03:04 PM``.
  Parquet timestamps without a time zone are local time; with a time zone they are instants.
  ``ward`` is stored as the raw text. Unknown extra columns are never read into the warehouse.
* **Plausibility** (limits in ``pipeline.contract``): a timestamp or date before 2000-01-01
  (local) or more than one day after the file's extract time (``contract.extract_time``: its
  modification time or, in a year folder, the end of that year if later) is rejected as
  ``implausible date``; queue or handle seconds above 86,400 as ``implausible duration``.
* **Row problems** go to ``raw.rejects`` (file, entity, line, column, first reason found) and
  the rest of the file loads. Reasons are fixed phrases: ``required value missing``,
  ``unparseable timestamp``, ``unparseable date``, ``unknown channel``,
  ``unknown interaction type``, ``unknown outcome``, ``unknown status``, ``invalid boolean``,
  ``negative seconds``, ``non-integer seconds``, ``negative count``, ``non-integer count``,
  ``invalid coordinate``, ``closed before created``, ``implausible date``,
  ``implausible duration``, ``NUL character`` (in a text the loader reads), ``field too long``
  (over ``FIELD_MAX_BYTES``, 1 MiB); and, found while reading a CSV row, ``N fields, expected M``
  (column ``(row)``) and ``invalid UTF-8 at byte N of the value``. Conditionally required:
  ``outcome`` for phone and live_chat, ``queue_seconds`` for phone, ``handle_seconds`` for
  answered phone/chat.
* **File problems** (required column missing, not a CSV/Parquet file, empty file or no data
  rows, UTF-16 text, undecodable bytes, a header that is not UTF-8, a quoted field never closed,
  a Parquet contract column holding lists or records) and a file whose rejects exceed
  ``max_reject_rate`` of its rows raise :class:`LoadError`, one paragraph naming the file (and
  the line where it applies); the whole run is one transaction, so nothing from it is written.
* **CSV format.** RFC 4180 with ``,`` and ``"`` (``""`` inside quotes); a quoted field may hold
  commas and line breaks; lines end at ``\n``, ``\r\n`` or ``\r``. A record with no value (empty
  line, spaces only, a lone ``""``) is not a row. A stray quote inside an unquoted field is an
  ordinary character, text after a closing quote is kept. A row with another number of fields
  than the header is rejected (never padded). An unterminated quote is a file problem naming the
  line where the quoted field starts: the rest of the file cannot be split into rows.
* **Encodings.** Valid UTF-8 is UTF-8 (``utf-8``, ``utf-8-sig`` with a byte-order mark). A file
  with a UTF-8 byte-order mark or any valid multi-byte UTF-8 character is UTF-8 even with invalid
  bytes: their rows are rejected. Only a file with no valid multi-byte UTF-8 character at all is
  read as Windows-1252 (``cp1252``, noted; bytes undefined in cp1252 are a file problem). The
  encoding of each CSV file is in ``LoadSummary.encodings`` and ``raw.load_audit.encoding`` (the
  report's data notes show it).
* **Line numbers.** CSV: the physical line where the row starts, header = line 1 (a quoted line
  break does not shift later rows). Parquet: row number + 1, as if a header line came first.
* **Nothing lost.** Per file: rows_read (every record after the header) = rows_loaded +
  rows_rejected + duplicates_collapsed, exactly, whatever the input; stored in
  ``raw.load_audit``. Only exact duplicates (same normalised value in every contract
  column) are collapsed, counted in the file holding the later copy (later delivery, or a
  later line of the same file). Repeated ids with different values are all kept; dbt keeps
  the one with the highest ``_delivery_rank``. Every id seen more than once (in one file or
  across deliveries) is listed in ``raw.repeated_ids``, so dbt ranks only those ids' rows.
* **Delivery order and idempotency** (``deliveries.py``). A file's place in the delivery
  order is fixed when the warehouse first loads it: an unchanged file keeps it whatever its
  modification time becomes; a new or changed file is placed after every file loaded before
  (files first loaded together: modification time, then name, then path). Per entity, the
  files up to the first changed or removed one are skipped; from there on, the old rows
  (landing rows, rejects, notes, audit row) are deleted and the files are (re)loaded, so a
  changed file replaces its rows, a removed file's rows disappear, and duplicate collapsing
  against earlier deliveries stays exact. Loading the same folder twice, or a copy of it,
  changes nothing. A warehouse loaded before ``raw.load_notes`` or the ``updated_at`` column
  existed is loaded again once, in full, the files keeping their places.
* **Reference files.** The BIA boundaries fill blank ``bia`` values as each file is loaded
  (their path and SHA-256 are kept in ``raw.reference_files``): when the file changes, appears
  or goes, every service-request file is read again, and a note says why. The city profile's
  settings, holidays and wards are written afresh at every load (``raw.city_settings``,
  ``raw.city_holidays``, ``raw.city_wards``); the build's fingerprint sees their changes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, NoReturn

import duckdb

from ..contract import ENTITIES, SourceFile, discover, non_extract_paths, plausible_range
from ..errors import disk_full, full_disk_path
from ..files import sha256
from ..profile import Profile, load_profile
from ..warehouse import attach, detach
from .bia_map import Boundaries, create_map, load_boundaries, ward_boundaries
from .checks import macros, needs_quick_macro, problem_expr, set_bounds, typed_columns
from .deliveries import reconcile
from .errors import LoadError, duck_message, file_error
from .landing import collapse_duplicates, create_tables, insert_rows
from .local_time import quick_macro
from .overrides import previous_timezone, reference_changes, write_city_tables
from .sql import column_list
from .staging import Staged, read_error, stage, unstage

Progress = Callable[[str, int, int], None]  # (file just loaded, done, total)
BIA_BOUNDARIES = "bia_boundaries"  # its name in raw.reference_files
WARD_BOUNDARIES = "ward_boundaries"


class FileCounts(NamedTuple):
    """One file's rows: read = loaded + rejected + duplicates."""

    read: int
    loaded: int
    rejected: int
    duplicates: int


class LoadNote(NamedTuple):
    """Something the run ignored: the file (relative to the raw folder), and what and why."""

    file: str
    note: str

    def __str__(self) -> str:
        return f"{self.file}: {self.note}"


@dataclass
class LoadSummary:
    """What a run did. ``notes`` lists what it ignored, one :class:`LoadNote` each: files in the
    raw folder that are not extracts (every run), and the columns ignored and the encoding
    guessed in each file loaded by this run. A loaded file's notes on its columns are also kept
    in ``raw.load_notes`` (one row per note; the encoding is in ``raw.load_audit``), for the
    report's data notes: they name the ignored columns (a name such as ``caller_name`` says
    what personal data the extract held, and the data notes say it was not read), never a
    value.
    ``encodings`` maps each CSV file loaded by this run to the encoding it was read with
    (utf-8, utf-8-sig or cp1252)."""

    files_loaded: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    duplicates_collapsed: int = 0
    notes: list[LoadNote] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)

    def add(self, rel: str, counts: FileCounts, staged: Staged | None = None) -> None:
        """Count a loaded file."""
        self.files_loaded.append(rel)
        self.rows_read += counts.read
        self.rows_loaded += counts.loaded
        self.rows_rejected += counts.rejected
        self.duplicates_collapsed += counts.duplicates
        if staged is not None:
            self.notes += [LoadNote(rel, note) for note in staged.notes]
            if staged.encoding:
                self.encodings[rel] = staged.encoding


def load(raw_dir: Path, db_path: Path, max_reject_rate: float = 0.01,
         progress: Progress | None = None, loading: Callable[[], None] | None = None) -> LoadSummary:
    """Load every contract file under ``raw_dir`` into ``db_path`` (one transaction).

    ``progress(file, done, total)`` is called after each file loaded; ``loading()`` once
    before the first, when some file is to be loaded (a build will follow).
    """
    raw_dir = Path(raw_dir)
    db_path = Path(db_path)
    if not raw_dir.is_dir():
        raise LoadError(f"Cannot load {raw_dir}: the raw folder does not exist. "
                        "Nothing from this run was loaded.")
    profile = load_profile(raw_dir)
    try:
        files = discover(raw_dir)
    except PermissionError as error:  # an extract this user cannot read (the loader reads every file)
        raise LoadError(f"Cannot load {error.filename}: this user ({_user()}) may not read it. Give the "
                        "user read access to it (chmod a+r), or run as a user who has it. Nothing from "
                        "this run was loaded.") from error
    boundaries = load_boundaries(profile.bia_boundaries)
    summary = LoadSummary(notes=[LoadNote(rel, f"ignored: {why}")
                                 for rel, why in non_extract_paths(raw_dir)])
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(db_path)
    small = False
    try:
        with tempfile.TemporaryDirectory(prefix="cx311_load_") as tmpdir:
            con.execute("BEGIN TRANSACTION")
            try:
                _Loader(con, Path(tmpdir), max_reject_rate, boundaries, profile,
                        raw_dir.resolve()).run(files, summary, progress, loading)
                con.execute("COMMIT")
            except BaseException as error:
                _rollback(con)
                full = full_disk_path(str(error)) if isinstance(error, duckdb.Error) else None
                if full is not None:  # DuckDB could not write the warehouse: nothing was committed
                    raise LoadError(f"{disk_full(full or db_path, 'loading the extracts')} Nothing from this "
                                    "run was loaded.") from error
                raise
        small = summary.rows_read <= SMALL_LOAD_ROWS
    finally:
        detach(con, release=not small)
    return summary


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the run's transaction (a failed COMMIT has ended it already)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


# After a load that read at most this many rows and succeeded, the process keeps its DuckDB
# instance for the next load (``warehouse.attach``); after a bigger or failed one it gives the
# instance's memory back.
SMALL_LOAD_ROWS = 100_000


def _open(db_path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return attach(db_path)
    except duckdb.Error as e:
        full = full_disk_path(str(e))
        if full is not None:
            raise LoadError(f"{disk_full(full or db_path, 'opening the warehouse')} Nothing from this run was "
                            "loaded.") from e
        raise LoadError(
            f"Cannot load into the warehouse {db_path}: it could not be opened "
            f"({duck_message(e)}). If another program (a report build, a notebook) has it "
            "open, close that program and load again. Nothing from this run was loaded."
        ) from e


class _Loader:
    """Loads a run's files into the landing tables, one at a time, in the run's transaction.

    Per file, temp relations: ``stg`` (staged text), ``typed`` (every row, landing-typed) and,
    for a file with rejects, ``checked`` (line and first problem of each rejected row).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tmp: Path, max_reject_rate: float,
                 boundaries: Boundaries | None, profile: Profile, raw_dir: Path | None = None) -> None:
        self.con = con
        self.raw_dir = raw_dir
        self.profile = profile
        self.wards = ward_boundaries(profile.wards.boundaries if profile.wards else None)
        self.tmp = tmp
        self.max_reject_rate = max_reject_rate
        self.boundaries = boundaries
        self.quick_until = 0  # the last year _local_ts_quick looks offsets up for (0: not made)

    def run(self, files: list[SourceFile], summary: LoadSummary,
            progress: Progress | None, loading: Callable[[], None] | None = None) -> None:
        """Bring the landing tables up to date with ``files`` (``load``: ``loading``)."""
        incomplete = create_tables(self.con)
        tz, before = self.profile.timezone, previous_timezone(self.con)
        for macro in macros(tz):
            self.con.execute(macro)
        tz_changed = before is not None and before != tz
        if tz_changed:
            summary.notes.append(LoadNote("reference/city.yaml", f"every file is read again: the time zone "
                                                                 f"changed from {before} to {tz}"))
        write_city_tables(self.con, self.profile)
        reload = set(ENTITIES) if incomplete or tz_changed else set()
        files_used = {BIA_BOUNDARIES: self.bia_file(), WARD_BOUNDARIES: self.ward_file()}
        why = {path: f"(a blank {what} is filled from the {what} boundaries)"
               for (path, _), what in ((files_used[BIA_BOUNDARIES], "BIA"), (files_used[WARD_BOUNDARIES], "ward"))}
        for path, change in reference_changes(self.con, files_used):
            summary.notes.append(LoadNote(path, f"{change}: every service-request file is read again "
                                                f"{why.get(path, '(a blank BIA or ward is filled from it)')}"))
            reload.add("service_requests")
        to_load, summary.files_skipped = reconcile(self.con, files, reload=reload)
        if to_load and loading is not None:
            loading()
        for done, sf in enumerate(to_load, start=1):
            counts, staged = self.load_file(sf)
            if progress is not None:
                progress(sf.rel, done, len(to_load))
            summary.add(sf.rel, counts, staged)

    def ward_file(self) -> tuple[str, str | None]:
        """(path as shown, SHA-256 or None) of the ward boundaries this load fills blank wards from."""
        path = self.profile.wards.boundaries if self.profile.wards else None
        if path is None:
            return "no ward boundaries (city profile: wards: null)", None
        return self._shown(path)

    def bia_file(self) -> tuple[str, str | None]:
        """(path as shown, SHA-256 or None) of the BIA boundaries this load fills blank BIAs from."""
        path = self.profile.bia_boundaries
        if path is None:
            return "no BIA boundaries (city profile: bia_boundaries: null)", None
        return self._shown(path)

    def _shown(self, path: Path) -> tuple[str, str | None]:
        shown = path.as_posix()
        if self.raw_dir is not None and path.is_relative_to(self.raw_dir):
            shown = path.relative_to(self.raw_dir).as_posix()
        return shown, sha256(path) if path.is_file() else None

    def load_file(self, sf: SourceFile) -> tuple[FileCounts, Staged]:
        """Stage and type one file, insert its good rows (one scan: each row's problem is
        computed as it is inserted), record its rejects (a second scan, only when some row was
        not inserted), then collapse its exact duplicates."""
        staged = stage(self.con, sf, self.tmp)
        bounds = plausible_range(sf, self.profile.timezone)
        set_bounds(self.con, bounds)
        types = {name: dtype for name, dtype, *_ in self.con.execute("DESCRIBE stg").fetchall()}
        self._quick_local_time(sf, types, bounds[1].year)
        rows_read = self._type(sf, staged, types)
        inserted = self._insert_good(sf)
        rejected = rows_read - inserted
        if rejected:
            self._write_rejects(sf, rows_read, rejected)
        duplicates = collapse_duplicates(self.con, sf)
        counts = FileCounts(rows_read, inserted - duplicates, rejected, duplicates)
        self._drop_temp_relations(sf, staged)
        self._audit(sf, staged, counts)
        return counts, staged

    def _quick_local_time(self, sf: SourceFile, types: dict[str, str], latest_year: int) -> None:
        """Make ``_local_ts_quick`` (local_time.py) when the file needs it, for its plausible
        years (up to next year: later ones are looked up by ``_local_ts``, exactly, only slower).
        Only a file typing its own local times does: the offsets cost a few ICU calls per hour
        of the 25 years, which a load of CSV files never spends."""
        until = min(latest_year, dt.date.today().year + 1)
        if until > self.quick_until and needs_quick_macro(sf.entity, types):
            self.con.execute(quick_macro(self.con, self.profile.timezone, until))
            self.quick_until = until

    def _type(self, sf: SourceFile, staged: Staged, types: dict[str, str]) -> int:
        """Create ``typed`` from ``stg`` (its columns' DuckDB ``types``); return the number of
        rows read."""
        # Parquet is cheap to read again, so `typed` stays a view over the file (nothing wide
        # is materialised: at 10x Toronto's volume a 13 M-row table cost 8 GB); a CSV is
        # parsed once (into Arrow), typed into a table, and its Arrow rows are released.
        try:
            with _planned_for_the_load(self.con):
                self.con.execute(
                    f"CREATE TEMP {_typed_kind(sf)} typed AS "
                    f"SELECT _pre, {', '.join(typed_columns(sf.entity, types))} FROM stg"
                )
                if _typed_kind(sf) == "TABLE":
                    unstage(self.con, staged)
                rows_read = self.con.execute("SELECT count(*) FROM typed").fetchone()[0]  # type: ignore[index]
        except duckdb.Error as e:
            _raise_read_error(sf, e)
        if rows_read == 0:
            raise file_error(sf.path, "the file is empty (it has no data rows).")
        return rows_read

    def _checked(self, sf: SourceFile) -> str:
        """The rows of ``typed`` with ``_problem``: the first problem of the row (NULL for none)."""
        return f"SELECT *, coalesce(_pre, {problem_expr(sf.entity)}) AS _problem FROM typed"

    def _insert_good(self, sf: SourceFile) -> int:
        """Insert the rows without a problem, a blank BIA or ward filled from the boundaries;
        return their number."""
        select = column_list([c.name for c in ENTITIES[sf.entity]], "t.")
        source = f"({self._checked(sf)}) t"
        with _planned_for_the_load(self.con):
            for i, boundaries in enumerate(self._maps(sf)):
                col, alias = boundaries.column, f"m{i}"
                select = select.replace(f't."{col}"', f'coalesce(t."{col}", {alias}.{col}) AS "{col}"')
                source += (f" LEFT JOIN {boundaries.table} {alias} ON t.{col} IS NULL "
                           f"AND t.latitude = {alias}.latitude AND t.longitude = {alias}.longitude")
            try:
                return insert_rows(self.con, sf, f"SELECT t._line, {select} FROM {source} "
                                                 "WHERE t._problem IS NULL")
            except duckdb.Error as e:
                _raise_read_error(sf, e)

    def _write_rejects(self, sf: SourceFile, rows_read: int, rejected: int) -> None:
        """Temp table ``checked`` (line and problem of each rejected row); record the rejected
        rows in ``raw.rejects``; LoadError when there are too many."""
        with _planned_for_the_load(self.con):
            self.con.execute(f"CREATE TEMP TABLE checked AS SELECT _line, _problem FROM "
                             f"({self._checked(sf)}) WHERE _problem IS NOT NULL")
        found = self.con.execute("SELECT count(*) FROM checked").fetchone()[0]  # type: ignore[index]
        if found != rejected:  # every row read is inserted or rejected: the audit relies on it
            raise RuntimeError(f"{sf.rel}: {rejected} rows not inserted but {found} rejected")
        if rejected > self.max_reject_rate * rows_read:
            raise self._too_many_rejects(sf, rows_read, rejected)
        self.con.execute(
            "INSERT INTO raw.rejects SELECT ?, ?, _line, split_part(_problem, '|', 1), "
            "split_part(_problem, '|', 2) FROM checked ORDER BY _line",
            [sf.rel, sf.entity],
        )

    def _too_many_rejects(self, sf: SourceFile, rows_read: int, rejected: int) -> LoadError:
        top = self.con.execute(
            "SELECT split_part(_problem, '|', 2), split_part(_problem, '|', 1), count(*), "
            "min(_line) FROM checked GROUP BY 1, 2 ORDER BY 3 DESC, 4 LIMIT 3"
        ).fetchall()
        reasons = "; ".join(
            f"'{reason}' in column {column} ({n} row{'s' if n != 1 else ''}, e.g. line {line})"
            for reason, column, n, line in top
        )
        return file_error(
            sf.path,
            f"{rejected} of its {rows_read} rows ({rejected / rows_read:.1%}) were rejected, "
            f"more than the allowed {self.max_reject_rate:.1%}. Most common reasons: {reasons}.",
        )

    def _maps(self, sf: SourceFile) -> list[Boundaries]:
        """The boundaries that fill a blank BIA and ward of this file's rows from their
        coordinates (each with its temp table made)."""
        if sf.entity != "service_requests":
            return []
        return [b for b in (self.boundaries, self.wards) if b is not None and create_map(self.con, b, "typed")]

    def _drop_temp_relations(self, sf: SourceFile, staged: Staged) -> None:
        for statement in ("DROP TABLE IF EXISTS checked", f"DROP {_typed_kind(sf)} typed",
                          "DROP TABLE IF EXISTS _bia_map", "DROP TABLE IF EXISTS _ward_map"):
            self.con.execute(statement)
        unstage(self.con, staged)

    def _audit(self, sf: SourceFile, staged: Staged, counts: FileCounts) -> None:
        """The file's audit row (with its encoding) and its notes on the columns not read
        (``raw.load_notes``)."""
        self.con.execute(
            "INSERT INTO raw.load_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sf.rel, sf.entity, sf.file_format, staged.encoding, sf.sha256, sf.size, sf.rank,
             *counts, sf.batch, sf.mtime_ns],
        )
        if staged.columns_ignored:
            self.con.executemany("INSERT INTO raw.load_notes VALUES (?, ?)",
                                 [[sf.rel, note] for note in staged.columns_ignored])


def _typed_kind(sf: SourceFile) -> str:
    return "VIEW" if sf.file_format == "parquet" else "TABLE"


@contextmanager
def _planned_for_the_load(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Two of DuckDB's optimizer rules are off while a file's rows are typed, counted, checked
    and inserted (the setting is the process's own DuckDB instance's, which only the loader
    uses):

    - ``filter_pushdown``: a filter on ``_problem`` stays above the projection that computes
      it. Pushed down, it would be rewritten in terms of the staged columns, so every typed
      value (a time zone conversion, a normalised code) would be computed again inside it, once
      per mention: measured, that scan cost twice the insert.
    - ``in_clause``: an IN list of five values or more (the channels) would become a join with
      the list, and an insert whose plan has that join keeps the rows' order by inserting in
      one thread (``Insert``, not ``Batch Insert``): on two cores, about twice the time. The
      join also stays in a count of the rows, which then reads the file."""
    con.execute("SET disabled_optimizers = 'filter_pushdown,in_clause'")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")


def _raise_read_error(sf: SourceFile, e: duckdb.Error) -> NoReturn:
    """Raise the error of a statement that reads the file: a full disk stays DuckDB's own (load()
    names the disk), anything else is the file's."""
    if full_disk_path(str(e)) is not None:
        raise e
    raise read_error(sf, e) from e
