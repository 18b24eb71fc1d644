"""The landing zone: the loader's validated rows as Parquet files, for an engine that does not
read the DuckDB warehouse file (Spark, on this machine or on a cluster).

The loader keeps its contract: it validates and writes the landing tables (schema ``raw`` of
the warehouse file). This module only copies them out, under ``<landing>/<table>/``:

- the tables of delivered rows (``interactions``, ``service_requests``, ``kb_views``: every
  table with a ``_source_file`` column): one Parquet file per source file, written again only
  when that file's SHA-256 or delivery rank changed (``raw.load_audit``), and removed with it;
- the other tables (``load_audit``, ``load_notes``, ``rejects``, ``repeated_ids``,
  ``service_standards``): one
  ``data.parquet`` each, replaced only when its bytes would change.

A table without rows still has one (empty) file, so every table has its columns. Files are
written under a hidden name and renamed, so a reader never sees half a file; ``_index.json``
says what each per-source file holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import duckdb

from .contract import RAW_SCHEMA

INDEX = "_index.json"
EMPTY = "empty.parquet"
WHOLE = "data.parquet"


def file_name(source_file: str) -> str:
    """The landing file of one source file: its path made flat and safe (a name Spark and
    Hadoop read as it is, never hidden), with a short hash that keeps two names apart."""
    flat = re.sub(r"[^A-Za-z0-9._-]+", "_", source_file.replace("/", "__")).lstrip("._") or "file"
    digest = hashlib.sha256(source_file.encode()).hexdigest()[:8]
    return f"{flat}.{digest}.parquet"


def _copy(con: duckdb.DuckDBPyConnection, query: str, params: list[Any], target: Path) -> bool:
    """Write ``query``'s rows to ``target`` through a hidden temporary file; keep the old file
    (and return False) when the new bytes are the same."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    con.execute(f"COPY ({query}) TO '{_sql_path(tmp)}' (FORMAT parquet)", params)
    if target.exists() and target.read_bytes() == tmp.read_bytes():
        tmp.unlink()
        return False
    os.replace(tmp, target)
    return True


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = ? ORDER BY table_name, column_index", [RAW_SCHEMA]
    ).fetchall():
        found.setdefault(table, []).append(column)
    return found


def export(db_path: Path, landing: Path) -> dict[str, int]:
    """Bring ``landing`` up to date with the landing tables of ``db_path``; return how many
    files were written, kept and removed."""
    landing = Path(landing)
    landing.mkdir(parents=True, exist_ok=True)
    index_path = landing / INDEX
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    counts = {"written": 0, "kept": 0, "removed": 0}
    new_index: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute("SET TimeZone='UTC'; SET enable_progress_bar=false")
        for table, columns in _tables(con).items():
            folder = landing / table
            folder.mkdir(exist_ok=True)
            wanted: set[str] = set()
            if "_source_file" in columns:
                files = con.execute(
                    "SELECT source_file, sha256, delivery_rank FROM raw.load_audit WHERE entity = ? "
                    "AND source_file IN (SELECT DISTINCT _source_file FROM raw." + table + ") "
                    "ORDER BY source_file", [table]
                ).fetchall()
                for source_file, sha256, rank in files:
                    name = file_name(source_file)
                    wanted.add(name)
                    entry = {"table": table, "source_file": source_file, "sha256": sha256,
                             "delivery_rank": rank}
                    new_index[f"{table}/{name}"] = entry
                    if index.get(f"{table}/{name}") == entry and (folder / name).exists():
                        counts["kept"] += 1
                        continue
                    _copy(con, f"SELECT * FROM raw.{table} WHERE _source_file = ? ORDER BY _source_line",
                          [source_file], folder / name)
                    counts["written"] += 1
                if not files:
                    wanted.add(EMPTY)
                    written = _copy(con, f"SELECT * FROM raw.{table} LIMIT 0", [], folder / EMPTY)
                    counts["written" if written else "kept"] += 1
            else:
                wanted.add(WHOLE)
                written = _copy(con, f"SELECT * FROM raw.{table} ORDER BY ALL", [], folder / WHOLE)
                counts["written" if written else "kept"] += 1
            for path in folder.iterdir():
                if path.name not in wanted and path.is_file():
                    path.unlink()
                    counts["removed"] += 1
    tmp = index_path.with_name(f".{INDEX}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(new_index, indent=1, sort_keys=True))
    os.replace(tmp, index_path)
    return counts
