"""Staging a file: temp view ``stg`` with ``_line`` (the line number), ``_pre`` (a problem found
while reading the row, as ``'column|reason'``, else NULL) and one column per contract column,
the file's values trimmed (blank is NULL) but not yet typed or checked.

The columns are found by their normalised header name (the first one wins when two normalise
to the same name); a City Open Data file is mapped from whichever of its two header variants
it matches, with a synthetic ``sr_id``. Unknown columns are never read: they are listed in the
file's notes, as are columns ignored because an earlier one has the same name.

A CSV file is parsed in Python (:mod:`.csv_rows`) into an Arrow table registered with DuckDB
as ``_csv_rows``; a Parquet file is read by DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ..contract import ENTITIES, OPEN_DATA_REQUIRED, OPEN_DATA_VARIANTS, SourceFile
from ..mapping import file_format
from . import json_files, mapped, open311
from .checks import category
from .deliveries import mapping_note
from .errors import LoadError, duck_message, file_error
from .sql import blank_as_null, qi, ql

if TYPE_CHECKING:
    import pyarrow as pa

VIEW = "stg"
CSV_ROWS = "_csv_rows"  # the registered Arrow table of a CSV file's rows
NO_VALUE = "NULL::VARCHAR"
NESTED = re.compile(r"(STRUCT|MAP|UNION)\b.*|.*\]", re.IGNORECASE)  # DuckDB's nested types
MAX_NAMES = 20  # column names listed in a note


@dataclass
class Source:
    """A file as DuckDB reads it."""

    relation: str  # read_parquet(...) or the registered CSV rows
    columns: list[tuple[str, str]]  # (name, DuckDB type), in file order
    line_expr: str  # the line number of a row
    problem_expr: str  # the problem found while reading a row (NULL for none)
    encoding: str | None  # None for Parquet


@dataclass
class Staged:
    """What staging a file tells the loader."""

    encoding: str | None  # utf-8 | utf-8-sig | cp1252; None for Parquet
    notes: list[str]  # what was ignored in the file, and why (the columns, then the encoding)
    registered: bool  # the CSV rows are registered as CSV_ROWS
    columns_ignored: list[str] = field(default_factory=list)  # the notes kept in raw.load_notes: the columns and how they were read


@dataclass
class Header:
    """The file's columns by normalised name; remembers which ones the staging reads."""

    columns: list[tuple[str, str]]
    positional: bool = False  # the relation names its columns col0, col1... (a CSV's rows)
    used: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_name = {norm_header(name): (name, dtype) for name, dtype in reversed(self.columns)}
        self.first = {name: i for i, (name, _) in reversed(list(enumerate(self.columns)))}

    def sql(self, name: str) -> str:
        """The quoted name of the column in the relation (a header may hold any character)."""
        return qi(f"col{self.first[name]}" if self.positional else name)

    def ignored(self) -> list[str]:
        """Notes on the columns the staging did not read (call after the last ``value``)."""
        used = set(self.used)
        read_norms = {norm_header(n) for n in used}
        twice, unknown = [], []
        for i, (name, _) in enumerate(self.columns):
            if name in used and self.first[name] == i:
                continue
            label = repr(name) if name.strip() else f"column {i + 1} (no name)"
            (twice if norm_header(name) in read_norms else unknown).append(label)
        notes = []
        if unknown:
            notes.append(f"{len(unknown)} column(s) not in the contract, ignored: {_names(unknown)}")
        if twice:
            notes.append(f"{len(twice)} column(s) ignored because an earlier column has the same "
                         f"name: {_names(twice)}")
        return notes

    def found(self) -> str:
        """The first 30 column names, for a message (on one line)."""
        return ", ".join(" ".join(re.sub(r"[\x00-\x1f\x7f]", " ", name).split())
                         for name, _ in self.columns[:30])

    def value(self, name: str, dtype: str) -> str:
        """Expression for the file's column ``name``: text trimmed, blank as NULL."""
        self.used.append(name)
        col = self.sql(name)
        if category(dtype) == "varchar":
            return blank_as_null(col)
        if category(dtype) == "other":
            return f"nullif(trim(CAST({col} AS VARCHAR)), '')"
        return col


def norm_header(name: str) -> str:
    """``"Service Request Type "`` -> ``service_request_type``."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _names(labels: list[str]) -> str:
    more = len(labels) - MAX_NAMES
    return ", ".join(labels[:MAX_NAMES]) + (f" and {more} more" if more > 0 else "")


def _reader(sf: SourceFile) -> str:
    """How the file's bytes are read: parquet, json or csv."""
    if sf.file_format == "mapped":
        return file_format(sf.path)
    return {"parquet": "parquet", "open311": "json"}.get(sf.file_format, "csv")


def stage(con: duckdb.DuckDBPyConnection, sf: SourceFile, tmp: Path) -> Staged:
    """Create temp view ``stg`` (and, for a CSV file, the Arrow table it reads)."""
    con.execute(f"DROP VIEW IF EXISTS {VIEW}")
    reader, json_array = _reader(sf), None
    if reader == "parquet":
        source, rows = parquet_source(con, sf), None
    elif reader == "json":
        source, json_array = json_source(con, sf, tmp)
        rows = None
    else:
        source, rows = csv_header(sf, tmp)
    header = Header(source.columns, positional=rows is not None)
    problems: list[str] = []
    if sf.file_format == "open_data":
        exprs = open_data_columns(sf, header)
    elif sf.file_format == "open311":
        exprs = open311.columns()
        header.used += open311.FIELDS
    elif sf.file_format == "mapped":
        mapped_source = mapped_source_columns(sf, header)
        exprs, problems = mapped.columns(sf, mapped_source)
    else:
        exprs = contract_columns(sf, header)
    used = list(dict.fromkeys(header.used))
    _check_nested(sf, header, used)
    if rows is not None:
        con.register(CSV_ROWS, rows([header.first[n] for n in used]))
    inner = ", ".join(header.sql(n) for n in used) or "1 AS _dummy"
    select = ", ".join(f"{e} AS {qi(n)}" for n, e in exprs.items())
    pre = f"coalesce(_pre, CASE {' '.join(problems)} END)" if problems else "_pre"
    try:
        con.execute(
            f"CREATE TEMP VIEW {VIEW} AS SELECT _line, {pre} AS _pre, {select} FROM "
            f"(SELECT {source.line_expr} AS _line, {source.problem_expr} AS _pre, {inner} "
            f"FROM {source.relation})"
        )
    except duckdb.Error as e:
        raise (json_files.malformed(sf, e, *json_array) if json_array else read_error(sf, e)) from e
    ignored = header.ignored() if sf.file_format != "open311" else []
    notes = list(ignored)  # and the reader's notes below: kept in raw.load_notes too
    if sf.file_format == "open311":
        notes.append(open311.CLOSED_AT_NOTE)
    if sf.file_format == "mapped":
        assert sf.mapping is not None
        notes.append(mapping_note(sf))
        try:
            notes += mapped.unmapped_notes(con, sf, source.relation, mapped_source,
                                           {c: sf.mapping.columns[c] for c in sf.mapping.values})
        except duckdb.Error as e:
            raise (json_files.malformed(sf, e, *json_array) if json_array else read_error(sf, e)) from e
    kept = list(notes)
    if source.encoding == "cp1252":
        notes.append("read as Windows-1252: the file is not UTF-8 (it has no UTF-8 multi-byte "
                     "character); if its accents look wrong, export it again as CSV UTF-8")
    return Staged(source.encoding, notes, rows is not None, kept)


def unstage(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Drop ``stg`` and the CSV rows it reads (if any)."""
    con.execute(f"DROP VIEW IF EXISTS {VIEW}")
    if staged.registered:
        con.unregister(CSV_ROWS)
        staged.registered = False


def _check_nested(sf: SourceFile, header: Header, used: list[str]) -> None:
    """LoadError when a column the staging reads holds lists or records (Parquet)."""
    types = dict(header.columns)
    nested = [n for n in used if NESTED.fullmatch(types[n])]
    if nested:
        raise file_error(
            sf.path,
            f"column {nested[0]!r} holds {types[nested[0]]} values (a list or record in each row), "
            "not single values.",
        )


def read_error(sf: SourceFile, e: duckdb.Error) -> LoadError:
    """LoadError: DuckDB could not read the file."""
    kind = "Parquet" if sf.file_format == "parquet" else "CSV"
    return file_error(sf.path, f"it could not be read as {kind} ({duck_message(e)}).")


def _describe(con: duckdb.DuckDBPyConnection, sf: SourceFile, relation: str) -> list[tuple[str, str]]:
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as e:
        raise read_error(sf, e) from e
    return [(name, dtype) for name, dtype, *_ in desc]


def parquet_source(con: duckdb.DuckDBPyConnection, sf: SourceFile) -> Source:
    """A Parquet file (checked for its signature); line = row number + 2."""
    with sf.path.open("rb") as f:
        head = f.read(4)
        f.seek(max(0, sf.size - 4))
        tail = f.read(4)
    if sf.size == 0:
        raise file_error(sf.path, "the file is empty.")
    if head != b"PAR1" or tail != b"PAR1":
        raise file_error(sf.path, "it is not a Parquet file (missing the Parquet signature).")
    relation = f"read_parquet({ql(str(sf.path))}, file_row_number=true)"
    columns = [c for c in _describe(con, sf, relation) if c[0] != "file_row_number"]
    return Source(relation, columns, "file_row_number + 2", NO_VALUE, None)


RowsFor = Callable[[list[int]], "pa.Table"]  # the rows, given the indices of the columns wanted


def csv_header(sf: SourceFile, tmp: Path) -> tuple[Source, RowsFor]:
    """A CSV file, plain, gzip-compressed or the one CSV in a zip archive: its header, and how
    to read its rows (every column as text; the line is where the row starts)."""
    # numpy and pyarrow: imported when a CSV is read, not by a run that reads none (a rerun)
    from .csv_files import extract_zip, inspect_csv
    from .csv_rows import LINE, PROBLEM, read_header, read_rows

    path = extract_zip(sf.path, tmp) if sf.path.name.lower().endswith(".zip") else sf.path
    text = inspect_csv(path, sf.path, tmp)
    header_at, names = read_header(text)
    source = Source(CSV_ROWS, [(n, "VARCHAR") for n in names], qi(LINE), qi(PROBLEM),
                    text.encoding)
    return source, lambda wanted: read_rows(text, header_at, names, wanted)


def json_source(con: duckdb.DuckDBPyConnection, sf: SourceFile, tmp: Path) -> tuple[Source, tuple[Path, int]]:
    """A JSON array of objects (Open311 requests, or a mapped system's records): the fields
    read (Open311's, or the mapping's source columns), each as text; line = position + 1."""
    array, offset = json_files.array_file(sf, tmp)
    if sf.file_format == "open311":
        fields = open311.FIELDS
    else:
        assert sf.mapping is not None
        fields = list(dict.fromkeys(sf.mapping.columns.values()))
    relation = json_files.relation(array, fields)
    try:  # DuckDB reads lazily: find malformed JSON here, where the byte offset can be named
        con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    except duckdb.Error as e:
        raise json_files.malformed(sf, e, array, offset) from e
    source = Source(relation, [(f, "VARCHAR") for f in fields], "row_number() OVER ()", NO_VALUE, None)
    return source, (array, offset)


def mapped_source_columns(sf: SourceFile, header: Header) -> dict[str, str]:
    """Contract column -> the expression of the source column its mapping names; the mapping's
    error (file, line, key) when the file lacks one."""
    m = sf.mapping
    assert m is not None
    out = {}
    for col, name in m.columns.items():
        found = header.by_name.get(norm_header(name))
        if found is None:
            raise m.fail(f"columns.{col}", f"{sf.rel} has no column {name!r} (columns found: {header.found()})")
        out[col] = header.value(*found)
    return out


def contract_columns(sf: SourceFile, header: Header) -> dict[str, str]:
    """Contract column -> expression, for a file with the contract's column names."""
    cols = ENTITIES[sf.entity]
    missing = [c.name for c in cols if c.required and c.name not in header.by_name]
    if missing:
        raise file_error(
            sf.path,
            f"the required column(s) {', '.join(repr(m) for m in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing for {sf.entity} "
            f"(columns found: {header.found()}).",
        )
    return {
        c.name: header.value(*header.by_name[c.name]) if c.name in header.by_name else NO_VALUE
        for c in cols
    }


def open_data_columns(sf: SourceFile, header: Header) -> dict[str, str]:
    """Contract column -> expression, for a City Open Data file (either header variant)."""
    mapping = open_data_variant(sf, header)
    have = {mapping[h]: header.by_name[h] for h in mapping if h in header.by_name}
    exprs = dict.fromkeys((c.name for c in ENTITIES[sf.entity]), NO_VALUE)
    for col, (name, dtype) in have.items():
        if col != "location":
            exprs[col] = header.value(name, dtype)
    if "location" in have:
        exprs.update(location_columns(header.value(*have["location"])))
    exprs["sr_id"] = f"'OD-{sf.sha256[:8]}-' || CAST(_line AS VARCHAR)"
    return exprs


def open_data_variant(sf: SourceFile, header: Header) -> dict[str, str]:
    """The header variant (normalised header -> contract column) the file matches best;
    LoadError when it lacks a required column of that variant."""
    mapping = max(OPEN_DATA_VARIANTS.values(), key=lambda m: len(set(m) & set(header.by_name)))
    missing = [h for h, c in mapping.items() if c in OPEN_DATA_REQUIRED and h not in header.by_name]
    if missing:
        raise file_error(
            sf.path,
            "it is not in either City Open Data header variant: required column(s) "
            + ", ".join(f"'{m}'" for m in missing)
            + f" missing (columns found: {header.found()}).",
        )
    return mapping


def location_columns(loc: str) -> dict[str, str]:
    """Variant B's one location field: a postal-code prefix (FSA) or an intersection."""
    is_fsa = rf"regexp_full_match(upper({loc}), '[A-Z]\d[A-Z]')"
    return {
        "fsa": f"CASE WHEN {is_fsa} THEN upper({loc}) END",
        "intersection_1": f"CASE WHEN NOT {is_fsa} THEN {loc} END",
    }
