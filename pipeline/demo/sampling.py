"""Random draws: the generator's seeded streams, days of the year and times of day."""

from __future__ import annotations

import numpy as np

from .calendar import US

# independent streams per (seed, year): one per file generated
SR_STREAM, INTERACTION_STREAM, KB_STREAM = 1, 2, 3


def rng(seed: int, year: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, year, stream])


def time_of_day(
    gen: np.random.Generator, n: int, profile: np.ndarray, lo_hour: int = 0, hi_hour: int = 24
) -> np.ndarray:
    """``n`` times of day (µs since midnight), hours weighted by ``profile`` within [lo, hi)."""
    p = np.zeros(24)
    p[lo_hour:hi_hour] = profile[lo_hour:hi_hour]
    hour = gen.choice(24, size=n, p=p / p.sum())
    return (hour.astype(np.int64) * 3600 + gen.integers(0, 3600, n)) * US


def sample_days(gen: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """``n`` day indexes drawn with the given day weights."""
    return gen.choice(len(weights), size=n, p=weights / weights.sum())
