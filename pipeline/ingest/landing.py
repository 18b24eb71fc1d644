"""The landing tables (schema ``raw``): creating them, and inserting a file's good rows with
exact duplicates collapsed.

The rows are inserted first, then the exact duplicates among them are deleted. Exact duplicates
share the dedup key (contract ``DEDUP_KEYS``): only the rows whose key repeats in the file or
already exists in an earlier delivery go through the (expensive) all-column comparison, and a
file whose keys are all new (the usual case) needs no more than one aggregate of its keys.
Every repeated id is listed in ``raw.repeated_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from ..contract import DDL, DEDUP_KEYS, ENTITIES, ID_COLUMNS, RAW_SCHEMA, SourceFile
from .sql import column_list, qi


def create_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Create the schema and its tables when missing, and bring a warehouse of an earlier
    version up to date: list its repeated ids (before ``raw.repeated_ids`` existed), add the
    columns it lacks. Returns True when the files already loaded must be loaded again, their
    rows being incomplete: no notes recorded (before ``raw.load_notes`` existed), or no
    ``updated_at`` or ``due_at`` column (a file's values in it were then ignored)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    had = _existing_tables(con)
    columns_before = {t: _columns(con, t) for t in had}
    for ddl in DDL.values():
        con.execute(ddl)
    if "repeated_ids" not in had:
        for entity, id_col in ID_COLUMNS.items():
            con.execute(
                f"INSERT INTO raw.repeated_ids SELECT ?, {qi(id_col)} FROM {RAW_SCHEMA}.{entity} "
                "GROUP BY ALL HAVING count(*) > 1", [entity]
            )
    for table, column, ddl in ADDED_COLUMNS:
        if table in had and column not in columns_before[table]:
            con.execute(f"ALTER TABLE {RAW_SCHEMA}.{table} ADD COLUMN {qi(column)} {ddl}")
    return "load_audit" in had and (
        "load_notes" not in had
        or ("service_requests" in had and not {"updated_at", "due_at"} <= columns_before["service_requests"]))


# Columns added to a landing table after its first version: (table, column, type and default).
# A warehouse loaded before gets them; its files already loaded keep their places (load
# batch 0: placed by modification time, as every load then placed them).
ADDED_COLUMNS = (
    ("service_requests", "updated_at", "TIMESTAMPTZ"),
    ("service_requests", "due_at", "TIMESTAMPTZ"),
    ("load_audit", "load_batch", "INTEGER DEFAULT 0"),
    ("load_audit", "mtime_ns", "BIGINT"),
)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [RAW_SCHEMA, table]).fetchall()}


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [RAW_SCHEMA]
    ).fetchall()}


@dataclass(frozen=True)
class _Insert:
    """The SQL pieces of inserting one file's rows into its landing table."""

    sf: SourceFile

    @property
    def target(self) -> str:
        return f"{RAW_SCHEMA}.{self.sf.entity}"

    @property
    def names(self) -> list[str]:
        return [c.name for c in ENTITIES[self.sf.entity]]

    @property
    def keys(self) -> list[str]:
        return DEDUP_KEYS[self.sf.entity]

    @property
    def klist(self) -> str:
        return column_list(self.keys)

    @property
    def columns(self) -> str:
        extra = ["closed_at_available"] if self.sf.entity == "service_requests" else []
        return ", ".join([column_list(self.names), *extra, "_source_file", "_source_line",
                          "_delivery_rank"])

    @property
    def values(self) -> str:
        """The inserted values of a row ``g`` (parameters: source file, delivery rank)."""
        closed_avail = []
        if self.sf.entity == "service_requests":
            # Open Data has no closing time, nor has a mapped export that maps none
            unknown = self.sf.file_format == "open_data" or (
                self.sf.mapping is not None and "closed_at" not in self.sf.mapping.columns)
            closed_avail = ["false" if unknown else "true"]
        return ", ".join([column_list(self.names, "g."), *closed_avail, "?", "g._line", "?"])


def insert_rows(con: duckdb.DuckDBPyConnection, sf: SourceFile, good: str) -> int:
    """Insert the rows of the query ``good`` (a file's rows without a problem: ``_line`` and
    the contract columns) into the landing table, in the query's order. Returns the number of
    rows inserted; :func:`collapse_duplicates` then removes the exact duplicates among them."""
    ins = _Insert(sf)
    return con.execute(
        f"INSERT INTO {ins.target} ({ins.columns}) SELECT {ins.values} FROM ({good}) g",
        [sf.rel, sf.rank],
    ).fetchone()[0]  # type: ignore[index]


def collapse_duplicates(con: duckdb.DuckDBPyConnection, sf: SourceFile) -> int:
    """After a file's rows are inserted: list its repeated ids (in ``raw.repeated_ids``) and
    delete its rows equal in every contract column to a row of an earlier file (every other
    file in the landing table is an earlier delivery) or to an earlier line of the file.
    Returns the number of rows deleted.

    Only the rows whose key repeats (in the file, or in an earlier file) are compared column
    by column; a file whose keys are all new costs one aggregate of its keys."""
    ins = _Insert(sf)
    if not _find_repeated_keys(con, ins):
        return 0
    if sf.entity in ID_COLUMNS:
        _list_repeated_ids(con, ins)
    collapsed = con.execute(
        f"DELETE FROM {ins.target} WHERE _source_file = ? AND _source_line IN ("
        f"SELECT _source_line FROM (SELECT _source_file, _source_line, row_number() OVER ("
        f"PARTITION BY {column_list(ins.names)} ORDER BY _source_file = ?, _source_line) AS n "
        f"FROM {ins.target} WHERE ({ins.klist}) IN (SELECT ({ins.klist}) FROM dupkeys)) "
        "WHERE n > 1 AND _source_file = ?)",
        [sf.rel, sf.rel, sf.rel],
    ).fetchone()[0]  # type: ignore[index]
    con.execute("DROP TABLE dupkeys")
    return collapsed


def _find_repeated_keys(con: duckdb.DuckDBPyConnection, ins: _Insert) -> int:
    """Temp table ``dupkeys``: the keys of the file's rows that repeat in the file or are in an
    earlier file's rows; returns their number (0: no table)."""
    klist, rel = ins.klist, ins.sf.rel
    of_file = f"FROM {ins.target} WHERE _source_file = ?"
    distinct, low, high = _key_order(con, ins)
    repeats = "LIMIT 0" if distinct else "GROUP BY ALL HAVING count(*) > 1"
    con.execute(f"CREATE TEMP TABLE dupkeys AS SELECT {klist} {of_file} {repeats}", [rel])
    if _earlier_rows_in_key_range(con, ins, low, high):
        match = (f"({klist}) IN (SELECT ({klist}) {of_file})" if len(ins.keys) > 1
                 else f"{klist} IN (SELECT {klist} {of_file})")
        con.execute(f"INSERT INTO dupkeys SELECT DISTINCT {klist} FROM {ins.target} WHERE _source_file <> ? "
                    f"AND {match} EXCEPT SELECT * FROM dupkeys", [rel, rel])
    found = con.execute("SELECT count(*) FROM dupkeys").fetchone()[0]  # type: ignore[index]
    if not found:
        con.execute("DROP TABLE dupkeys")
    return found


# Above this many runs of increasing keys a file is taken as unordered (see _key_order).
MAX_RUNS = 100_000


def _key_order(con: duckdb.DuckDBPyConnection, ins: _Insert) -> tuple[bool, Any, Any]:
    """One scan of the file's landed rows: whether their keys are all different, shown by
    their order, and the lowest and highest key's first column.

    A file's keys are usually in order (an id sequence, a date then an article), where
    listing the repeated keys costs a hash table of every key (at 10x Toronto's volume, 13 M
    of them: 3 s of CPU, and more once they outgrow the caches). The rows, in the order the
    table holds them (``lag(...) OVER ()``: DuckDB's streaming window, one sequence of the rows
    in one thread), are cut into runs wherever the key does not increase or the line does not
    follow the line before (a big insert may store a file's row groups out of line order). Keys
    increase within a run, so they differ; runs whose key ranges do not overlap share no key.
    Nothing is assumed of the order, which only makes the runs few; that the rows were one
    sequence is checked (exactly one row has no row before it, and one is the last, numbered
    as the file's rows are counted). Beyond MAX_RUNS runs the file is taken as unordered
    (False), and the caller lists its repeated keys the long way.

    Only the rows that start a run, and the last row, leave the scan (the first MAX_RUNS + 1
    of them): a run's lowest key is its first row's, its highest the key before the
    next run's first row (the last row's key for the last run). Numbering every run with a
    running sum instead (a second streaming window, then an aggregate of every row) cost
    three times the scan."""
    single = len(ins.keys) == 1
    key = ins.klist if single else f"({ins.klist})"
    first = qi(ins.keys[0])
    rows = con.execute(f"SELECT count(*) FROM {ins.target} WHERE _source_file = ?", [ins.sf.rel]).fetchone()[0]  # type: ignore[index]
    # the first key column of a row and of the row before (the key itself for a one-column key)
    seq_firsts = "" if single else f", {first} AS _first, lag({first}) OVER () AS _first_before"
    firsts = "_key AS _first, _key_before AS _first_before" if single else "_first, _first_before"
    return con.execute(  # type: ignore[return-value]
        f"""
        WITH seq AS (
            SELECT {key} AS _key, _source_line AS _line, row_number() OVER () AS _n,
                lag({key}) OVER () AS _key_before, lag(_source_line) OVER () AS _line_before{seq_firsts}
            FROM {ins.target} WHERE _source_file = ?
        ),
        marked AS (
            SELECT _key, _key_before, {firsts}, _n,
                _key_before IS NULL OR _key <= _key_before OR _line <> _line_before + 1 AS _cut
            FROM seq
        ),
        cuts AS MATERIALIZED (
            SELECT * FROM marked WHERE _cut OR _n = ? ORDER BY _n LIMIT {MAX_RUNS + 1}
        ),
        runs AS (
            SELECT _key AS _low, _first AS _low_first,
                coalesce(lead(_key_before) OVER (ORDER BY _n), (SELECT max(_key) FROM cuts WHERE _n = ?)) AS _high,
                coalesce(lead(_first_before) OVER (ORDER BY _n), (SELECT max(_first) FROM cuts WHERE _n = ?)) AS _high_first
            FROM cuts WHERE _cut
        )
        SELECT coalesce((SELECT count(*) FILTER (WHERE _key_before IS NULL) = 1 AND count(*) FILTER (WHERE _cut) <= {MAX_RUNS}
                             AND count(*) FILTER (WHERE _n = ?) = 1 FROM cuts)
                   AND count(*) FILTER (WHERE _high >= _next_low) = 0, false),
            min(_low_first), max(_high_first)
        FROM (SELECT *, lead(_low) OVER (ORDER BY _low) AS _next_low FROM runs)
        """,
        [ins.sf.rel, rows, rows, rows, rows]).fetchone()


def _earlier_rows_in_key_range(con: duckdb.DuckDBPyConnection, ins: _Insert, low: Any, high: Any) -> bool:
    """Whether an earlier file has a row whose key (its first column) lies between the file's
    lowest and highest (``low``, ``high``). Usually none does (a year's ids after the year
    before's): that is read from the table's zone maps, where matching every key would build a
    hash table of them all."""
    first, rel = qi(ins.keys[0]), ins.sf.rel
    if con.execute(f"SELECT 1 FROM {ins.target} WHERE _source_file <> ? LIMIT 1", [rel]).fetchone() is None:
        return False
    return con.execute(f"SELECT 1 FROM {ins.target} WHERE _source_file <> ? AND {first} BETWEEN ? AND ? "
                       "LIMIT 1", [rel, low, high]).fetchone() is not None


def _list_repeated_ids(con: duckdb.DuckDBPyConnection, ins: _Insert) -> None:
    con.execute(
        f"INSERT INTO raw.repeated_ids SELECT DISTINCT ?, {ins.klist} FROM dupkeys d "
        f"WHERE NOT EXISTS (SELECT 1 FROM raw.repeated_ids r "
        f"WHERE r.entity = ? AND r.id = d.{ins.klist})",
        [ins.sf.entity, ins.sf.entity],
    )
