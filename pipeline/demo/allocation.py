"""Integer allocations that hit a published total exactly (the calibration's arithmetic)."""

from __future__ import annotations

import numpy as np


def scaled(value: float, scale: float) -> int:
    """A published count at ``scale`` (rounded to the nearest integer)."""
    return int(round(value * scale))


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum to ``total`` (largest remainder)."""
    w = np.asarray(weights, float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), np.int64)
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(w)), -(quota - base)))
        base[order[:rest]] += 1
    return base


def capped_allocation(total: int, weights: np.ndarray, cap: int) -> np.ndarray:
    """Largest-remainder allocation with every count <= cap (water filling)."""
    w = np.asarray(weights, float).copy()
    out = np.zeros(len(w), np.int64)
    fixed = np.zeros(len(w), bool)
    remaining = total
    for _ in range(len(w) + 1):
        alloc = largest_remainder(remaining, np.where(fixed, 0.0, w))
        over = (~fixed) & (alloc > cap)
        if not over.any():
            out[~fixed] = alloc[~fixed]
            return out
        out[over] = cap
        fixed |= over
        remaining = total - int(out[fixed].sum())
    raise ValueError("cannot allocate under the cap")


def exact_sum_adjust(rng: np.random.Generator, values: np.ndarray, floor: int, target_sum: int) -> np.ndarray:
    """Rescale ``values - floor`` so that the integer values sum exactly to target_sum."""
    v = values.astype(np.int64)
    if len(v) == 0:
        return v
    excess = v - floor
    total_excess = int(excess.sum())
    want = target_sum - floor * len(v)
    if total_excess <= 0 or want < 0:
        return v
    new = np.floor(excess * (want / total_excess)).astype(np.int64)
    rest = want - int(new.sum())
    if rest > 0:
        idx = rng.choice(len(v), size=min(rest, len(v)), replace=False)
        new[idx] += 1
        rest -= len(idx)
        if rest > 0:
            new += rest // len(v)
            new[: rest % len(v)] += 1
    return new + floor
