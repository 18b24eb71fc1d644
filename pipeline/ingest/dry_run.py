"""A dry run of the load, for an analyst writing a mapping: every file is read as the load
would read it (same readers, same checks, same mappings) into a throwaway warehouse in a
temporary folder, and what it found is returned; nothing is written anywhere else.

    check_extracts(raw_dir, sample=3) -> Check
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..contract import RAW_SCHEMA
from .loader import LoadSummary, load


@dataclass
class FileCheck:
    file: str
    entity: str
    file_format: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    duplicates_collapsed: int
    first_rows: list[dict[str, Any]] = field(default_factory=list)  # as contract rows


@dataclass
class Check:
    files: list[FileCheck]
    rejects: list[tuple[str, str, str, int]]  # (file, column, reason, rows)
    notes: list[str]  # what was not read and why, the unmapped values, how files were read
    years: dict[str, list[int]]  # entity -> the years its rows fall in (local dates)


def check_extracts(raw_dir: Path, sample: int = 3) -> Check:
    """Read every extract of ``raw_dir`` as the load would (no reject limit), and report."""
    with tempfile.TemporaryDirectory(prefix="cx311_check_") as tmp:
        db = Path(tmp) / "check.duckdb"
        summary: LoadSummary = load(Path(raw_dir), db, max_reject_rate=1.0)
        with duckdb.connect(str(db), read_only=True) as con:
            tz = con.execute("SELECT json_extract_string(value, '$') FROM raw.city_settings "
                             "WHERE name = 'timezone'").fetchone()[0]
            con.execute(f"SET TimeZone = '{tz}'")  # first rows shown in local time
            files = [FileCheck(*row) for row in con.execute(
                "SELECT source_file, entity, file_format, rows_read, rows_loaded, rows_rejected, "
                "duplicates_collapsed FROM raw.load_audit ORDER BY delivery_rank").fetchall()]
            for f in files:
                cursor = con.execute(
                    f"SELECT * EXCLUDE (_source_file, _delivery_rank) FROM {RAW_SCHEMA}.{f.entity} "
                    f"WHERE _source_file = ? ORDER BY _source_line LIMIT {int(sample)}", [f.file])
                names = [d[0] for d in cursor.description]
                f.first_rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            rejects = con.execute(
                'SELECT source_file, "column", reason, count(*) FROM raw.rejects GROUP BY ALL '
                "ORDER BY source_file, count(*) DESC, reason").fetchall()
            years = {
                entity: [y for (y,) in con.execute(
                    f"SELECT DISTINCT year({column}) FROM {RAW_SCHEMA}.{entity} ORDER BY 1").fetchall()]
                for entity, column in (("interactions", "started_at"), ("service_requests", "created_at"),
                                       ("kb_views", "date"))
            }
    return Check(files, [tuple(r) for r in rejects], [str(n) for n in summary.notes],
                 {k: v for k, v in years.items() if v})
