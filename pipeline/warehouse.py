"""The warehouse file: how Python connects to it, and the queries Python runs on its marts.

Python reads only the marts (schema ``marts``): they are the contract between dbt and the
documents, declared as exposures in ``dbt_project/models/marts/_exposures.yml``. The loader and
dbt write the other schemas.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from .errors import CxError


class WarehouseError(CxError):
    """The warehouse is missing or cannot be read."""


# Every connection: no extension is ever installed or downloaded (an instance's settings), and
# times are in UTC with no progress bar (a connection's).
_INSTANCE_SETTINGS = "SET autoinstall_known_extensions=false; SET autoload_known_extensions=false"
_CONNECTION_SETTINGS = "SET TimeZone='UTC'; SET enable_progress_bar=false"


def connect(db_path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection that never installs or downloads DuckDB extensions, in UTC."""
    con = duckdb.connect(str(db_path), read_only=read_only)
    con.execute(_INSTANCE_SETTINGS)
    con.execute(_CONNECTION_SETTINGS)
    return con


# The loader writes the warehouse file through one in-memory DuckDB instance per process,
# attaching the file for each load: a new instance costs ~40 ms before its first row (its
# catalog, time zones, regular expressions), a third of loading a small file, and one process
# may load many times (the test suite loads ~80 times).
_ATTACHED = "warehouse"


@functools.cache
def _instance() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(_INSTANCE_SETTINGS)
    return con


def attach(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the warehouse file (created when missing), set
    up as ``connect``'s. Until it is given to ``detach``, this process holds the file's lock."""
    con = _instance().cursor()
    try:
        con.execute(_CONNECTION_SETTINGS)
        con.execute(f"ATTACH '{str(db_path).replace(chr(39), chr(39) * 2)}' AS {_ATTACHED}")
        con.execute(f"USE {_ATTACHED}")
    except BaseException:
        detach(con, release=True)
        raise
    return con


def detach(con: duckdb.DuckDBPyConnection, release: bool) -> None:
    """Close a connection from ``attach``: the file is written out and its lock released. With
    ``release`` the instance is closed too, giving back its memory (after a big load it kept
    hundreds of MB, which the report process would hold while dbt runs). The instance is
    closed whenever detaching fails, so the file is never left attached."""
    try:
        con.execute("USE memory")
        con.execute(f"DETACH DATABASE IF EXISTS {_ATTACHED}")
    except BaseException:
        release = True
        raise
    finally:
        con.close()
        if release:
            _instance().close()
            _instance.cache_clear()


def set_aside_if_unreadable(db_path: Path) -> tuple[Path, str] | None:
    """The warehouse is derived state, rebuilt from the raw folder: when its file cannot be
    read (corrupt, truncated), move it aside as ``<name>.unreadable-<n>`` and return (where it
    went, why), so the caller says so and builds a new one. None when it is fine or absent."""
    db_path = Path(db_path)
    if not db_path.exists():
        return None
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            con.execute("SELECT * FROM pragma_database_size()").fetchall()
        finally:
            con.close()
        return None
    except duckdb.Error as error:
        reason = str(error).strip().splitlines()[0]
        if "lock" in reason.lower():
            raise WarehouseError(f"The warehouse {db_path} is in use by another program: {reason}") from error
    n = 1
    while db_path.with_name(f"{db_path.name}.unreadable-{n}").exists():
        n += 1
    aside = db_path.with_name(f"{db_path.name}.unreadable-{n}")
    db_path.rename(aside)
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists():
        wal.rename(aside.with_name(aside.name + ".wal"))
    return aside, reason


def import_marts(db_path: Path, published: Path) -> list[str]:
    """Make the marts another engine published as Parquet (``published/<mart>/*.parquet``,
    e.g. Spark's) the ``marts`` schema of the warehouse file, in one transaction: Python then
    reads them as it reads DuckDB's own. Returns the marts' names."""
    names = sorted(p.name for p in Path(published).iterdir() if p.is_dir() and any(p.glob("*.parquet")))
    if not names:
        raise WarehouseError(f"No marts were published in {published}.")
    con = connect(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("DROP SCHEMA IF EXISTS marts CASCADE")
        con.execute("CREATE SCHEMA marts")
        for name in names:
            files = str(Path(published) / name / "*.parquet").replace("'", "''")
            con.execute(f'CREATE TABLE marts."{name}" AS SELECT * FROM read_parquet(\'{files}\')')
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return names


@contextmanager
def reading(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a built warehouse, closed on exit."""
    if not Path(db_path).exists():
        raise WarehouseError(f"There is no warehouse at {db_path}: run `make load` (or `make report`) first.")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """The result of ``sql`` as a list of {column: value} dicts."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> dict[str, Any] | None:
    """The first row of ``sql`` as a dict, or None."""
    result = rows(con, sql, params)
    return result[0] if result else None


# --------------------------------------------------------------------------- provenance


# the settings block's order (key_metrics.json, manifest.json): the profile's names and
# standards, then the analysis parameters
SETTINGS_ORDER = ("city", "service", "division", "timezone", "phone_service_level_seconds",
                  "phone_service_level_target", "short_abandon_seconds", "email_acknowledgement_hours",
                  "surge_factor", "surge_floor", "surge_window_days", "inquiry_surge_floor",
                  "surge_profile_cutoff_hour", "per_residents")


def settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The city profile's settings the figures were computed with (``marts.mart_city_settings``)."""
    values = {name: json.loads(value) for name, value in
              con.execute("SELECT name, value FROM marts.mart_city_settings").fetchall()}
    return {name: values[name] for name in SETTINGS_ORDER if name in values}


def build_settings(db_path: Path) -> dict[str, Any]:
    """:func:`settings` of a warehouse file."""
    with reading(db_path) as con:
        return settings(con)


def input_files(db_path: Path, year: int, *, entity: str | None = None) -> list[dict[str, Any]]:
    """The loaded files a year's figures depend on (``mart_report_files``: the year's and the
    prior year's folders, which every comparison reads, and the Open Data files), with hash
    and row counts; only those holding ``entity`` (e.g. 'service_requests') when given."""
    where, params = "report_year = ?", [year]
    if entity is not None:
        where, params = f"{where} AND entity = ?", [*params, entity]
    with reading(db_path) as con:
        return rows(
            con,
            "SELECT source_file AS name, sha256, rows_read, rows_loaded, rows_rejected, duplicates_collapsed "
            f"FROM marts.mart_report_files WHERE {where} ORDER BY source_file",
            params,
        )


def report_sources(db_path: Path, year: int) -> dict[str, Any]:
    """What the annual report says about its sources: files (``mart_report_files``: the year's
    and the prior year's folders and the Open Data files, every file its figures depend on)
    and, per file in ``sources``, the encoding it was read with (utf-8, utf-8-sig, cp1252; None for Parquet) and
    the loader's notes on it (one text, the notes joined by '; '; None when there are none),
    rejects, standards; ``delivery_order``: the files in delivery order, each with
    whether it was placed by its modification time (first loaded together with other files),
    and ``decided_by_modification_time``: how many SRs of these files had the version that
    counts chosen by those modification times (``mart_sr_versions``)."""
    with reading(db_path) as con:
        files = con.execute(
            "SELECT source_file, rows_rejected, rejects_by_reason, encoding, load_notes, "
            "delivery_rank, placed_by_modification_time "
            "FROM marts.mart_report_files WHERE report_year = ? ORDER BY source_file",
            [year],
        ).fetchall()
        illustrative = con.execute(
            "SELECT count(*) FROM marts.mart_service_standards WHERE illustrative"
        ).fetchone()[0]
        by_mtime = con.execute(
            "SELECT coalesce(sum(service_requests), 0) FROM marts.mart_sr_versions "
            "WHERE decided_by = 'modification time' AND source_file IN "
            "(SELECT source_file FROM marts.mart_report_files WHERE report_year = ?)", [year]
        ).fetchone()[0]
    return {
        "files": [name for name, *_ in files],
        "sources": [{"file": name, "encoding": encoding, "notes": notes}
                    for name, _, _, encoding, notes, *_ in files],
        "rejects": [{"file": name, "reasons": reasons} for name, rejected, reasons, *_ in files if rejected],
        "standards_illustrative": illustrative > 0,
        "delivery_order": [{"file": f[0], "by_modification_time": bool(f[6])}
                           for f in sorted(files, key=lambda f: f[5])],
        "decided_by_modification_time": int(by_mtime),
    }


def version_decisions(db_path: Path) -> dict[str, int]:
    """{part of the rule: SRs} of the SRs delivered in more than one version, by what chose the
    version that counts (``mart_sr_versions``: updated_at, delivery order, modification time,
    line order); empty when no SR was delivered twice."""
    with reading(db_path) as con:
        found = con.execute("SELECT decided_by, sum(service_requests) FROM marts.mart_sr_versions "
                            "GROUP BY ALL ORDER BY 1").fetchall()
    return {rule: int(n) for rule, n in found}


def extract_years(db_path: Path) -> list[int]:
    """The calendar years the loaded interactions and service requests cover, in order."""
    with reading(db_path) as con:
        found = con.execute(
            "SELECT activity_year AS y FROM marts.mart_interaction_mix "
            "UNION SELECT created_year FROM marts.mart_sr_yearly ORDER BY y"
        ).fetchall()
    return [int(y) for (y,) in found if y is not None]
