"""Analyst overrides of the shipped reference data, from ``raw/reference/``, and the city
profile's tables in the warehouse."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from ..profile import Profile
from .errors import LoadError

# What the build reads of the city profile: its settings (each a JSON value; dbt's --vars come
# from here, so a build counts with the profile its rows were loaded with), the holidays and
# the wards (number, name, population: the profile's population file).
CITY_TABLES_DDL = (
    "CREATE OR REPLACE TABLE raw.city_settings (name VARCHAR NOT NULL, value VARCHAR NOT NULL)",
    "CREATE OR REPLACE TABLE raw.city_holidays (holiday_date DATE NOT NULL, holiday_name VARCHAR NOT NULL)",
    "CREATE OR REPLACE TABLE raw.city_wards (ward_number INTEGER NOT NULL, ward_name VARCHAR NOT NULL, "
    "population BIGINT NOT NULL)",
)
# The reference files the load itself read (the BIA boundaries, which fill a blank bia as each
# file is loaded): each file's path and SHA-256 (null: the profile names none, or it does not
# exist), so that the next load and the build know when one changed.
REFERENCE_FILES_DDL = ("CREATE TABLE IF NOT EXISTS raw.reference_files "
                       "(name VARCHAR NOT NULL, path VARCHAR NOT NULL, sha256 VARCHAR)")


def previous_timezone(con: duckdb.DuckDBPyConnection) -> str | None:
    """The time zone the warehouse's rows were read in (None: no profile recorded yet)."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                        "AND table_name = 'city_settings'").fetchone()[0]  # type: ignore[index]
    if not found:
        return None
    row = con.execute("SELECT value FROM raw.city_settings WHERE name = 'timezone'").fetchone()
    return json.loads(row[0]) if row else None


def write_city_tables(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    """``raw.city_settings`` (the profile's settings), ``raw.city_holidays`` (its calendar) and
    ``raw.city_wards`` (its wards)."""
    for ddl in CITY_TABLES_DDL:
        con.execute(ddl)
    con.executemany("INSERT INTO raw.city_settings VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in sorted(profile.settings().items())])
    con.executemany("INSERT INTO raw.city_holidays VALUES (?, ?)", profile.holiday_calendar())
    con.executemany("INSERT INTO raw.city_wards VALUES (?, ?, ?)", profile.ward_table())


def reference_changes(con: duckdb.DuckDBPyConnection,
                      files: dict[str, tuple[str, str | None]]) -> list[tuple[str, str]]:
    """Record the reference files the load reads (``{name: (path, sha256 or None)}``) in
    ``raw.reference_files``; return what changed since the previous load recorded them, as
    (path, 'changed' | 'was added' | 'was removed'). Nothing when none was recorded yet (a new
    warehouse reads every file anyway)."""
    con.execute(REFERENCE_FILES_DDL)
    before = {name: (path, sha) for name, path, sha in con.execute("SELECT * FROM raw.reference_files").fetchall()}
    con.execute("DELETE FROM raw.reference_files")
    con.executemany("INSERT INTO raw.reference_files VALUES (?, ?, ?)",
                    [(name, path, sha) for name, (path, sha) in sorted(files.items())])
    said = []
    for name, (path, sha) in sorted(files.items()):
        was_path, was = before.get(name, (path, sha))
        if was != sha:
            said.append((path, "was added") if was is None else (was_path, "was removed") if sha is None
                        else (path, "changed"))
    return said


SERVICE_STANDARDS_DDL = """
    CREATE OR REPLACE TABLE raw.service_standards (
        sr_type VARCHAR NOT NULL, target_days INTEGER NOT NULL, day_basis VARCHAR NOT NULL
    )"""


class OverrideError(LoadError):
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
    rows = _read_rows(path)
    columns = rows[0].keys() if rows else []
    missing = {"sr_type", "target_days", "day_basis"} - set(columns)
    if missing:
        raise OverrideError(f"{path}: required column(s) missing: {', '.join(sorted(missing))}.")
    clean = []
    for line, row in enumerate(rows, start=2):
        sr_type, days, basis = ((row.get(c) or "").strip() for c in ("sr_type", "target_days", "day_basis"))
        if not sr_type or basis.lower() not in ("calendar", "business") or not days.isdigit():
            raise OverrideError(
                f"{path}, line {line}: expected sr_type, a whole number of target_days and "
                f"day_basis 'calendar' or 'business'."
            )
        clean.append((sr_type, int(days), basis.lower()))
    con.executemany("INSERT INTO raw.service_standards VALUES (?, ?, ?)", clean)
    return len(clean)


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        try:
            return list(reader)
        except UnicodeDecodeError:
            raise OverrideError(f"{path}: not UTF-8 text; save it as CSV UTF-8.") from None
        except csv.Error as e:
            raise OverrideError(
                f"{path}, line {reader.reader.line_num}: not a readable CSV file ({e}); save it as CSV UTF-8."
            ) from None
