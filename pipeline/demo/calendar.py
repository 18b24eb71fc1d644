"""The demo's calendar: the days of a year, the City's holidays and the local clock's DST gap.

The demo is Toronto's: holidays come from the shipped city profile's calendar (the one the
warehouse counts business days with, observed days included); the spring-forward gap comes
from the time zone database (``zoneinfo``, the profile's time zone).
Times are naive local microseconds since 1970-01-01 00:00, as the extracts store them.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import numpy as np

from ..profile import FIRST_YEAR, LAST_YEAR, load_profile

US = 1_000_000
DAY_US = 86_400 * US
TZ = load_profile().timezone  # the shipped (Toronto) profile's


@functools.cache
def _profile_holidays() -> dict[int, frozenset[dt.date]]:
    by_year: dict[int, set[dt.date]] = {}
    for day, _name in load_profile().holiday_calendar():
        by_year.setdefault(day.year, set()).add(day)
    return {year: frozenset(days) for year, days in by_year.items()}


def city_holidays(year: int) -> frozenset[dt.date]:
    """The City's holidays of ``year`` (observed weekdays included), from the shipped profile."""
    by_year = _profile_holidays()
    if year not in by_year:
        raise ValueError(f"the holiday calendar covers {FIRST_YEAR}-{LAST_YEAR}, not {year} "
                         "(pipeline/profile.py: FIRST_YEAR, LAST_YEAR)")
    return by_year[year]


def _utc_offset(posix_seconds: int, zone: ZoneInfo) -> int:
    return int(dt.datetime.fromtimestamp(posix_seconds, zone).utcoffset().total_seconds())


@functools.cache
def dst_gaps(year: int, tz: str = TZ) -> tuple[tuple[int, int], ...]:
    """The naive local times of ``year`` that do not exist in ``tz`` (clocks spring forward).

    Each gap is ``(start, end)`` in naive local µs: 02:00-03:00 on the second Sunday of March
    for Toronto. Found by scanning the year day by day for a rising UTC offset, then bisecting
    to the second of the transition.
    """
    zone = ZoneInfo(tz)
    first = stdlib_calendar.timegm((year, 1, 1, 0, 0, 0)) - 86_400
    last = stdlib_calendar.timegm((year + 1, 1, 1, 0, 0, 0)) + 86_400
    gaps = []
    for day in range(first, last, 86_400):
        before, after = _utc_offset(day, zone), _utc_offset(day + 86_400, zone)
        if after <= before:
            continue
        lo, hi = day, day + 86_400  # offset(lo) == before, offset(hi) == after
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _utc_offset(mid, zone) == before:
                lo = mid
            else:
                hi = mid
        start, end = hi + before, hi + after  # wall clock just before and just after the jump
        if dt.datetime.fromtimestamp(start, dt.UTC).year == year:
            gaps.append((start * US, end * US))
    return tuple(gaps)


def fix_dst_gap(us: np.ndarray, years: Iterable[int]) -> np.ndarray:
    """Move naive local times that fall in a DST gap of ``years`` on by the gap's length."""
    for year in years:
        for start, end in dst_gaps(year):
            gap = (us >= start) & (us < end)
            if gap.any():
                us = us.copy()
                us[gap] += end - start
    return us


class Calendar:
    """Day grid of one year: day starts (µs, naive local), months, weekdays, holidays, seasons."""

    def __init__(self, year: int):
        self.year = year
        days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
        self.n = len(days)
        self.day_us = days.astype("datetime64[us]").astype(np.int64)
        self.month = days.astype("datetime64[M]").astype(np.int64) % 12  # 0..11
        self.weekday = (days.astype(np.int64) + 3) % 7  # Monday = 0
        self.doy = np.arange(self.n)
        holidays = np.array(sorted(city_holidays(year)), "datetime64[D]")
        self.holiday = np.isin(days, holidays)

    def index_of(self, date: dt.date) -> int | None:
        if date.year != self.year:
            return None
        return (date - dt.date(self.year, 1, 1)).days

    def day_index(self, us: np.ndarray) -> np.ndarray:
        """Index of the day of each naive local time (clipped to the year)."""
        return ((us - self.day_us[0]) // DAY_US).clip(0, self.n - 1)

    def season(self, peak_doy: float, amplitude: float) -> np.ndarray:
        return 1.0 + amplitude * np.cos(2 * np.pi * (self.doy - peak_doy) / 365.25)

    def weekday_factor(self, weekend: float, holiday: float) -> np.ndarray:
        f = np.where(self.weekday >= 5, weekend, 1.0)
        f = np.where(self.weekday == 0, f * 1.08, f)
        return np.where(self.holiday, f * holiday, f)
