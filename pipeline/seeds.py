"""Generated reference seeds: the City of Toronto holiday calendar.

Business days (for service standards counted in business days) skip Saturdays, Sundays and
City holidays: the Ontario statutory holidays plus the Civic Holiday (first Monday of
August), with weekend holidays moved to their observed weekday.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import holidays

from .paths import SEEDS_DIR

FIRST_YEAR, LAST_YEAR = 2015, 2035
HOLIDAYS_SEED = SEEDS_DIR / "city_holidays.csv"


def city_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[tuple[dt.date, str]]:
    """Ontario statutory holidays plus the Civic Holiday, observed dates included."""
    years = range(first_year, last_year + 1)
    statutory = holidays.CA(subdiv="ON", years=years, observed=True)
    optional = holidays.CA(subdiv="ON", years=years, observed=True, categories=("optional",))
    days = dict(statutory)
    days.update({d: name for d, name in optional.items() if "Civic Holiday" in name})
    return sorted(days.items())


def write_holidays_seed(path: Path = HOLIDAYS_SEED) -> Path:
    """Write the holiday calendar seed (atomically) and return its path."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["holiday_date", "holiday_name"])
        for day, name in city_holidays():
            writer.writerow([day.isoformat(), name])
    os.replace(tmp, path)
    return path
