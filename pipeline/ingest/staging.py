"""Staging a file: temp view ``stg`` with ``_line`` (the line number) and one column per
contract column, the file's values trimmed (blank is NULL) but not yet typed or checked.

The columns are found by their normalised header name (the first one wins when two normalise
to the same name); a City Open Data file is mapped from whichever of its two header variants
it matches, with a synthetic ``sr_id``. Unknown columns are never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..contract import ENTITIES, OPEN_DATA_REQUIRED, OPEN_DATA_VARIANTS, SourceFile
from .checks import category
from .csv_files import extract_zip, prepare_csv
from .errors import LoadError, duck_message, file_error
from .sql import qi, ql

VIEW = "stg"
NO_VALUE = "NULL::VARCHAR"


@dataclass
class Source:
    """A file as DuckDB reads it."""

    relation: str  # read_parquet(...) or read_csv(...)
    columns: list[tuple[str, str]]  # (name, DuckDB type), in file order
    line_expr: str  # the line number of a row
    encoding: str | None  # None for Parquet


@dataclass
class Header:
    """The file's columns by normalised name; remembers which ones the staging reads."""

    columns: list[tuple[str, str]]
    used: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_name = {norm_header(name): (name, dtype) for name, dtype in reversed(self.columns)}

    def found(self) -> str:
        """The first 30 column names, for a message."""
        return ", ".join(name for name, _ in self.columns[:30])

    def value(self, name: str, dtype: str) -> str:
        """Expression for the file's column ``name``: text trimmed, blank as NULL."""
        self.used.append(name)
        if category(dtype) == "varchar":
            return f"nullif(trim({qi(name)}), '')"
        if category(dtype) == "other":
            return f"nullif(trim(CAST({qi(name)} AS VARCHAR)), '')"
        return qi(name)


def norm_header(name: str) -> str:
    """``"Service Request Type "`` -> ``service_request_type``."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def stage(con: duckdb.DuckDBPyConnection, sf: SourceFile, tmp: Path) -> str | None:
    """Create temp view ``stg``; return the detected encoding (None for Parquet)."""
    con.execute(f"DROP VIEW IF EXISTS {VIEW}")
    source = parquet_source(con, sf) if sf.file_format == "parquet" else csv_source(con, sf, tmp)
    header = Header(source.columns)
    if sf.file_format == "open_data":
        exprs = open_data_columns(sf, header)
    else:
        exprs = contract_columns(sf, header)
    inner = ", ".join(qi(n) for n in dict.fromkeys(header.used)) or "1 AS _dummy"
    select = ", ".join(f"{e} AS {qi(n)}" for n, e in exprs.items())
    try:
        con.execute(
            f"CREATE TEMP VIEW {VIEW} AS SELECT _line, {select} FROM "
            f"(SELECT {source.line_expr} AS _line, {inner} FROM {source.relation})"
        )
    except duckdb.Error as e:
        raise read_error(sf, e) from e
    return source.encoding


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
    return Source(relation, _describe(con, sf, relation), "file_row_number + 2", None)


def csv_source(con: duckdb.DuckDBPyConnection, sf: SourceFile, tmp: Path) -> Source:
    """A CSV file, plain, gzip-compressed or the one CSV in a zip archive, read as text;
    line = row number + 1 (the header is line 1)."""
    path = extract_zip(sf.path, tmp) if sf.path.name.lower().endswith(".zip") else sf.path
    read_path, encoding = prepare_csv(path, sf.path, tmp)
    gzip = ", compression='gzip'" if read_path.name.lower().endswith(".gz") else ""
    relation = (
        f"read_csv({ql(str(read_path))}, all_varchar=true, header=true, delim=',', "
        f"quote='\"', escape='\"', null_padding=true{gzip})"
    )
    return Source(relation, _describe(con, sf, relation), "row_number() OVER () + 1", encoding)


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
