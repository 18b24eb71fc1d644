"""The generated holiday calendar seed."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pipeline.seeds import HOLIDAYS_SEED, city_holidays, write_holidays_seed


def test_2024_city_holidays_are_the_ontario_statutory_days_plus_civic_holiday() -> None:
    days = [d for d, _ in city_holidays(2024, 2024)]
    # Published 2024 dates: New Year's, Family Day, Good Friday, Victoria Day, Canada Day,
    # Civic Holiday, Labour Day, Thanksgiving, Christmas, Boxing Day.
    assert days == [
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 19),
        dt.date(2024, 3, 29),
        dt.date(2024, 5, 20),
        dt.date(2024, 7, 1),
        dt.date(2024, 8, 5),
        dt.date(2024, 9, 2),
        dt.date(2024, 10, 14),
        dt.date(2024, 12, 25),
        dt.date(2024, 12, 26),
    ]


def test_weekend_holidays_are_observed_on_a_weekday() -> None:
    # Canada Day 2023 fell on a Saturday; the City observed it on Monday 3 July.
    days = {d for d, _ in city_holidays(2023, 2023)}
    assert dt.date(2023, 7, 3) in days


def test_committed_seed_is_what_the_generator_writes(tmp_path: Path) -> None:
    fresh = write_holidays_seed(tmp_path / "city_holidays.csv")
    assert fresh.read_bytes() == HOLIDAYS_SEED.read_bytes()
    with fresh.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0] == {"holiday_date": "2015-01-01", "holiday_name": "New Year's Day"}
    assert rows[-1]["holiday_date"].startswith("2035-12-")
