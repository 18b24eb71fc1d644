"""Generated reference seeds: the City of Toronto holiday calendar.

Business days (for service standards counted in business days) skip Saturdays, Sundays and
City holidays: the Ontario statutory holidays plus the Civic Holiday (first Monday of
August), each weekend holiday also observed on a weekday.
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
    """Ontario statutory holidays plus the Civic Holiday, with observed weekdays.

    A holiday on a Saturday or Sunday is observed on the next weekday that is not already a
    holiday or an observed day (Canada Day 2023, a Saturday, on Monday 3 July; Christmas 2022,
    a Sunday, on Tuesday 27 December because Boxing Day took the Monday).
    """
    years = range(first_year, last_year + 1)
    statutory = holidays.CA(subdiv="ON", years=years, observed=False)
    optional = holidays.CA(subdiv="ON", years=years, observed=False, categories=("optional",))
    days = dict(statutory)
    days.update({d: name for d, name in optional.items() if "Civic Holiday" in name})
    observed: dict[dt.date, str] = {}
    for day, name in sorted(days.items()):
        if day.weekday() < 5:
            continue
        substitute = day
        while substitute.weekday() >= 5 or substitute in days or substitute in observed:
            substitute += dt.timedelta(days=1)
        observed[substitute] = f"{name} (observed)"
    return sorted({**days, **observed}.items())


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
