"""Knowledge-base views: daily views per article for a year, ``kb_views_<year>.parquet``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .calendar import DAY_US, Calendar
from .parquet import take, write_parquet
from .reference import KB_ARTICLES
from .sampling import KB_STREAM, rng
from .schema import KB_VIEWS_SCHEMA

SUMMER_WORDS = ("Pools", "Heat Relief", "Festivals", "Yard Waste")


def _season(title: str, cal: Calendar) -> np.ndarray:
    """Relative daily interest in an article over the year."""
    if title.startswith("Property Tax"):
        # instalment due dates early in the month, bills in Feb and Jun
        return 1.0 + 0.6 * np.isin(cal.month, [1, 5]) + 0.4 * (cal.doy % 30 < 5)
    if title == "Vacant Home Tax":
        return np.where(cal.month < 6, 1.6, 0.5)
    if "Snow" in title:
        return np.exp(1.5 * np.cos(2 * np.pi * (cal.doy - 20) / 365.25))
    if any(k in title for k in SUMMER_WORDS):
        return np.exp(1.0 * np.cos(2 * np.pi * (cal.doy - 200) / 365.25))
    return np.ones(cal.n)


def write_kb_views(path: Path, year: int, scale: float, seed: int) -> int:
    gen = rng(seed, year, KB_STREAM)
    cal = Calendar(year)
    n_art = len(KB_ARTICLES)
    base = np.array([b for _, b in KB_ARTICLES], float) * scale
    titles = [t for t, _ in KB_ARTICLES]
    season = np.array([_season(t, cal) for t in titles], float)
    weekday = np.where(cal.weekday >= 5, 0.7, 1.0)
    lam = base[:, None] * season * weekday[None, :] * gen.gamma(20.0, 1 / 20.0, (n_art, cal.n))
    views = gen.poisson(lam).astype(np.int64)
    dates = np.tile(cal.day_us // DAY_US, n_art).astype(np.int32)
    art = np.repeat(np.arange(n_art), cal.n)
    ids = [f"KB-{1001 + i:04d}" for i in range(n_art)]

    def batch(lo: int, hi: int) -> dict[str, pa.Array]:
        s = slice(lo, hi)
        return {
            "date": pa.array(dates[s], pa.date32()),
            "article_id": take(ids, art[s]),
            "article_title": take(titles, art[s]),
            "views": pa.array(views.reshape(-1)[s], pa.int64()),
        }

    n = n_art * cal.n
    write_parquet(path, KB_VIEWS_SCHEMA, n, batch)
    return n
