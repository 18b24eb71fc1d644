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
# from here, so a build counts with the profile its rows were loaded with) and the holidays.
CITY_TABLES_DDL = (
    "CREATE OR REPLACE TABLE raw.city_settings (name VARCHAR NOT NULL, value VARCHAR NOT NULL)",
    "CREATE OR REPLACE TABLE raw.city_holidays (holiday_date DATE NOT NULL, holiday_name VARCHAR NOT NULL)",
)


def previous_timezone(con: duckdb.DuckDBPyConnection) -> str | None:
    """The time zone the warehouse's rows were read in (None: no profile recorded yet)."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                        "AND table_name = 'city_settings'").fetchone()[0]  # type: ignore[index]
    if not found:
        return None
    row = con.execute("SELECT value FROM raw.city_settings WHERE name = 'timezone'").fetchone()
    return json.loads(row[0]) if row else None


def write_city_tables(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    """``raw.city_settings`` (the profile's settings) and ``raw.city_holidays`` (its calendar)."""
    for ddl in CITY_TABLES_DDL:
        con.execute(ddl)
    con.executemany("INSERT INTO raw.city_settings VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in sorted(profile.settings().items())])
    con.executemany("INSERT INTO raw.city_holidays VALUES (?, ?)", profile.holiday_calendar())

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
