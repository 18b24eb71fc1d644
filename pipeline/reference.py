"""Analyst overrides of the shipped reference data, from ``raw/reference/``."""

from __future__ import annotations

from pathlib import Path

import duckdb

SERVICE_STANDARDS_DDL = """
    CREATE OR REPLACE TABLE raw.service_standards (
        sr_type VARCHAR NOT NULL, target_days INTEGER NOT NULL, day_basis VARCHAR NOT NULL
    )"""


class ReferenceError(Exception):
    """A reference override file is malformed."""


def load_service_standards(raw_dir: Path, con: duckdb.DuckDBPyConnection) -> int:
    """Replace ``raw.service_standards`` with ``raw/reference/service_standards.csv``.

    The table is left empty when there is no override; dbt then uses the shipped seed.
    Returns the number of standards loaded.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(SERVICE_STANDARDS_DDL)
    path = Path(raw_dir) / "reference" / "service_standards.csv"
    if not path.exists():
        return 0
    rows = con.execute("SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(path)]).fetchall()
    columns = [d[0] for d in con.description]
    missing = {"sr_type", "target_days", "day_basis"} - set(columns)
    if missing:
        raise ReferenceError(f"{path}: required column(s) missing: {', '.join(sorted(missing))}.")
    index = {name: columns.index(name) for name in ("sr_type", "target_days", "day_basis")}
    clean = []
    for line, row in enumerate(rows, start=2):
        sr_type, days, basis = (row[index[c]] for c in ("sr_type", "target_days", "day_basis"))
        basis = (basis or "").strip().lower()
        if not sr_type or basis not in ("calendar", "business") or not (days or "").isdigit():
            raise ReferenceError(
                f"{path}, line {line}: expected sr_type, a whole number of target_days and "
                f"day_basis 'calendar' or 'business'."
            )
        clean.append((sr_type.strip(), int(days), basis))
    con.executemany("INSERT INTO raw.service_standards VALUES (?, ?, ?)", clean)
    return len(clean)
