"""Local times to instants, most of them without a time zone lookup per row.

``_local_ts`` (:mod:`.checks`) turns a local time into an instant through DuckDB's ICU time
zone functions, two to four calls a row: at 10x Toronto's volume they were a tenth of the
load. Yet on almost every day of the year a zone's offset is one constant, and the instant is
the local time minus it. The macro made here, ``_local_ts_quick(t)``, looks that offset up
from the local day (a binary search over the runs of days with one offset, written out as
nested CASEs) and takes ``_local_ts`` only for the days around a change of offset (a DST
switch, a zone's new rules) and for times outside the years covered. Its result is
``_local_ts``'s, row for row: the offsets are ``_local_ts``'s own ICU's, read at every hour of
the day, of the day before and of the day after (a day is "plain" when all of them agree;
no zone changes its offset and back within an hour).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ..contract import EARLIEST_PLAUSIBLE

QUICK = "_local_ts_quick"
DAY_US = 86_400_000_000
EPOCH = dt.date(1970, 1, 1)
# the runs of plain days, per (time zone, first day, last day): the same in every load of a process
_RUNS: dict[tuple[str, dt.date, dt.date], list[tuple[int, int | None]]] = {}


def quick_macro(con: duckdb.DuckDBPyConnection, tz: str, last_year: int) -> str:
    """``CREATE MACRO _local_ts_quick(t)``: ``_local_ts(t)`` for a ``t`` that is cheap to
    compute (a column: the macro names it several times), the offset of the local times from
    2000 to the end of ``last_year`` looked up (``tz``: a checked IANA name)."""
    first = EARLIEST_PLAUSIBLE - dt.timedelta(days=2)
    last = dt.date(last_year, 12, 31) + dt.timedelta(days=2)
    key = (tz, first, last)
    if key not in _RUNS:
        _RUNS[key] = plain_runs(con, tz, first, last)
    runs = _RUNS[key]
    us = "epoch_us(t)"
    offset = f"CASE WHEN {us} < {runs[0][0]} OR {us} >= {runs[-1][0]} THEN NULL ELSE {_search(us, runs, 0, len(runs) - 1)} END"
    return (f"CREATE OR REPLACE TEMP MACRO {QUICK}(t) AS CASE WHEN t IS NULL THEN NULL "
            f"ELSE coalesce(make_timestamptz({us} - ({offset})), _local_ts(t)) END")


def plain_runs(con: duckdb.DuckDBPyConnection, tz: str, first: dt.date, last: dt.date) -> list[tuple[int, int | None]]:
    """The days from ``first`` to ``last`` as runs of one offset: (the run's first local
    midnight as microseconds, the offset in microseconds, or None for days that are not
    plain), in order; the last item is the end (the day after ``last``, None)."""
    days = (last - first).days + 1
    rows = con.execute(
        "SELECT d, min(o), max(o) FROM (SELECT d, epoch_us(l) - epoch_us(timezone(?, l)) AS o FROM ("
        "SELECT d, CAST(? AS TIMESTAMP) + to_days(CAST(d AS INTEGER)) + to_hours(CAST(h AS INTEGER)) AS l "
        "FROM range(-1, ?) a(d), range(0, 25) b(h))) GROUP BY d ORDER BY d",
        [tz, first.isoformat(), days + 1],
    ).fetchall()
    own = [lo if lo == hi else None for _, lo, hi in rows]  # index 0 is the day before `first`
    plain = [own[i] if own[i - 1] == own[i] == own[i + 1] else None for i in range(1, days + 1)]
    start = (first - EPOCH).days * DAY_US
    runs: list[tuple[int, int | None]] = []
    for i, offset in enumerate(plain):
        if not runs or runs[-1][1] != offset:
            runs.append((start + i * DAY_US, offset))
    runs.append((start + days * DAY_US, None))
    return runs


def _search(us: str, runs: list[tuple[int, int | None]], lo: int, hi: int) -> str:
    """The offset of the run holding ``us``, among ``runs[lo:hi]`` (``us`` is known to be at
    or after the start of ``runs[lo]`` and before the start of ``runs[hi]``)."""
    if hi - lo == 1:
        offset = runs[lo][1]
        return "NULL" if offset is None else str(offset)
    mid = (lo + hi) // 2
    return f"CASE WHEN {us} >= {runs[mid][0]} THEN {_search(us, runs, mid, hi)} ELSE {_search(us, runs, lo, mid)} END"
