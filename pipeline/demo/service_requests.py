"""Service requests: generated per year (types, creation times, wards, closing, location, BIA)
and written as ``service_requests_<year>.parquet``.

Every draw comes from one seeded stream per (seed, year), in a fixed order: the steps below
must keep that order for the files to stay byte-identical.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from .allocation import scaled
from .calendar import DAY_US, US, Calendar, fix_dst_gap
from .calibration import (
    EXTRACT_LAG_DAYS,
    HOUR_PROFILE_SR,
    SR_CANCELLED_SHARE,
    STORM_DATE,
    STORM_SRS,
    sr_type_counts,
    ward_counts,
)
from .parquet import id_array, take, ts, write_parquet
from .reference import (
    DEFAULT_GROUP,
    NEW_TYPE_GROUP,
    SUMMER_GROUP,
    WARD_GEO,
    WILDLIFE_GROUP,
    WINTER_GROUP,
    division_in,
)
from .sampling import SR_STREAM, rng, sample_days, time_of_day
from .schema import (
    CHANNELS,
    SERVICE_REQUESTS_SCHEMA,
    SR_STATUSES,
    ST_CANC,
    ST_CLOSED,
    ST_INIT,
    ST_PROG,
    ST_UNKNOWN,
)

BLANK_WARD = 25  # ward index of SRs without a ward (0..24 are the wards of the seed)
# median days to close for a few well-known types (others: drawn once, same in every year)
TYPE_MEDIAN_DAYS = (
    ("General Pruning", 45.0),
    ("Residential Bin Lid Damaged", 6.0),
    ("Injured Wildlife", 0.4),
    ("Dead Wildlife Pickup", 1.2),
    ("Sewer Service Line-Blocked", 1.5),
)
BIA_SHARE = 0.08  # of SRs in a BIA (every BIA in every month)


def _storm_counts(
    cal: Calendar, counts: np.ndarray, types: dict, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """SRs per type created on the storm day before / after 16:00 (out of the annual count)."""
    before = np.zeros(len(counts), np.int64)
    after = np.zeros(len(counts), np.int64)
    if cal.index_of(STORM_DATE) is None:
        return before, after
    for name, n_before, n_after in STORM_SRS:
        i = types["index"].get(name)
        if i is None:
            continue
        b, a = scaled(n_before, scale), scaled(n_after, scale)
        take_n = min(b + a, int(counts[i]))
        before[i] = min(b, take_n)
        after[i] = take_n - before[i]
    return before, after


def _group_day_weights(cal: Calendar) -> dict[int, np.ndarray]:
    """Day weights of each seasonal group of SR types."""
    weekday = cal.weekday_factor(0.72, 0.78)
    july = (dt.date(cal.year, 7, 1) - dt.date(cal.year, 1, 1)).days
    return {
        DEFAULT_GROUP: cal.season(196, 0.22) * weekday,
        WILDLIFE_GROUP: cal.season(140, 0.85) * weekday,
        WINTER_GROUP: np.exp(2.4 * np.cos(2 * np.pi * (cal.doy - 20) / 365.25)) * weekday,
        SUMMER_GROUP: cal.season(200, 0.80) * weekday,
        NEW_TYPE_GROUP: np.where(cal.doy >= july, 1.0, 0.0) * weekday,
    }


def _sample_normal_days(gen: np.random.Generator, cal: Calendar, group: np.ndarray) -> np.ndarray:
    """A day for each SR, from its seasonal group's day weights."""
    day = np.empty(len(group), np.int64)
    weights = _group_day_weights(cal)
    for g, w in weights.items():
        sel = np.flatnonzero(group == g)
        if len(sel):
            if w.sum() <= 0:
                w = cal.weekday_factor(0.72, 0.78)
            day[sel] = sample_days(gen, len(sel), w)
    return day


def _creation(
    gen: np.random.Generator, cal: Calendar, types: dict, counts: np.ndarray, n_nc: int, scale: float
):
    """(type index, created µs, cancelled) of every SR, unsorted: normal, cancelled, storm."""
    n_types = len(counts)
    storm_before, storm_after = _storm_counts(cal, counts, types, scale)
    normal = counts - storm_before - storm_after
    n_canc = scaled(SR_CANCELLED_SHARE * n_nc / max(scale, 1e-12), scale)
    canc_types = (
        gen.choice(n_types, size=n_canc, p=counts / counts.sum()) if n_canc else np.zeros(0, np.int64)
    )
    type_idx = np.concatenate([np.repeat(np.arange(n_types), normal), canc_types]).astype(np.int32)
    n_normal = len(type_idx)
    day = _sample_normal_days(gen, cal, types["group"][type_idx])
    tod = time_of_day(gen, n_normal, HOUR_PROFILE_SR)

    sb_types = np.repeat(np.arange(n_types), storm_before).astype(np.int32)
    sa_types = np.repeat(np.arange(n_types), storm_after).astype(np.int32)
    storm_types = np.concatenate([sb_types, sa_types])
    storm_tod = np.concatenate(
        [
            time_of_day(gen, len(sb_types), HOUR_PROFILE_SR, 5, 16),
            time_of_day(gen, len(sa_types), HOUR_PROFILE_SR, 16, 24),
        ]
    )
    type_idx = np.concatenate([type_idx, storm_types])
    day = np.concatenate([day, np.full(len(storm_types), cal.index_of(STORM_DATE) or 0, np.int64)])
    tod = np.concatenate([tod, storm_tod])
    cancelled = np.zeros(len(type_idx), bool)
    cancelled[n_normal - n_canc : n_normal] = True
    created = fix_dst_gap(cal.day_us[day] + tod, (cal.year,))
    return type_idx, created, cancelled


def _assign_wards(gen: np.random.Generator, wc: np.ndarray, cancelled: np.ndarray) -> np.ndarray:
    """Ward index per SR (-1: blank): exact multiplicities for the non-cancelled SRs."""
    ward_idx = np.empty(len(cancelled), np.int16)
    ward_nc = gen.permutation(np.repeat(np.arange(len(wc)), wc)).astype(np.int16)
    ward_idx[~cancelled] = ward_nc[: int((~cancelled).sum())]
    ward_idx[cancelled] = gen.choice(len(wc), size=int(cancelled.sum()), p=wc / wc.sum())
    ward_idx[ward_idx == BLANK_WARD] = -1
    return ward_idx


def _type_median_days(seed: int, types: dict) -> np.ndarray:
    trng = np.random.default_rng([seed, 77])  # per-type medians are the same in every year
    median = np.exp(trng.normal(np.log(3.0), 0.7, len(types["names"]))).clip(0.3, 25)
    for name, days in TYPE_MEDIAN_DAYS:
        if name in types["index"]:
            median[types["index"][name]] = days
    return median


def _close(gen: np.random.Generator, cal: Calendar, seed: int, types: dict, sr: dict) -> None:
    """Status and closing time (``closed``, ``closed_null``, ``status``) as of the extract date."""
    type_idx, created, cancelled = sr["type"], sr["created"], sr["cancelled"]
    n = len(type_idx)
    extract_us = cal.day_us[-1] + (1 + EXTRACT_LAG_DAYS) * DAY_US
    dur_days = _type_median_days(seed, types)[type_idx] * np.exp(gen.normal(0.0, 1.0, n))
    closed = created + np.maximum((dur_days * DAY_US).astype(np.int64), 600 * US)
    status = np.full(n, ST_CLOSED, np.int8)
    p_open = 0.052 + 0.5 * np.exp(-((extract_us - created) / DAY_US) / 25.0)
    still_open = (closed > extract_us) | (gen.random(n) < p_open)
    status[still_open] = np.where(gen.random(int(still_open.sum())) < 0.6, ST_PROG, ST_INIT)
    unknown = gen.random(n) < 0.005
    status[unknown] = ST_UNKNOWN
    closed_null = still_open | unknown
    # cancelled: usually closed within a couple of days
    canc_dur = np.maximum((np.exp(gen.normal(np.log(1.0), 1.0, n)) * DAY_US).astype(np.int64), 300 * US)
    status[cancelled] = ST_CANC
    closed = np.where(cancelled, created + canc_dur, closed)
    closed_null = np.where(cancelled, (gen.random(n) < 0.1) | (created + canc_dur > extract_us), closed_null)
    closed = fix_dst_gap(closed, (cal.year, cal.year + 1))
    sr["closed"] = np.where(closed_null, 0, np.maximum(closed, created + 60 * US))
    sr["closed_null"] = closed_null
    sr["status"] = status


def _locate(gen: np.random.Generator, ref: dict, sr: dict) -> None:
    """Coordinates, FSA and intersection near each SR's ward centroid (none without a ward)."""
    ward_idx = sr["ward"]
    n = len(ward_idx)
    geo = [WARD_GEO[int(w["ward_number"])] for w in ref["wards"]]
    lat0 = np.array([g[0] for g in geo])
    lon0 = np.array([g[1] for g in geo])
    has_ward = ward_idx >= 0
    wi = np.where(has_ward, ward_idx, 0)
    sr["lat"] = (lat0[wi] + gen.normal(0, 0.011, n)).clip(43.585, 43.855)
    sr["lon"] = (lon0[wi] + gen.normal(0, 0.016, n)).clip(-79.635, -79.125)
    sr["geo_null"] = (gen.random(n) < 0.045) | ~has_ward
    fsa_lists = [g[2].split() for g in geo]
    fsa_all = sorted({f for lst in fsa_lists for f in lst})
    fsa_table = np.array([[fsa_all.index(lst[k % len(lst)]) for k in range(6)] for lst in fsa_lists])
    fsa_idx = fsa_table[wi, gen.integers(0, 6, n)]
    sr["fsa"] = np.where(has_ward & (gen.random(n) > 0.01), fsa_idx, -1)
    sr["fsa_values"] = fsa_all
    street_lists = [g[3].split("|") for g in geo]
    streets_all = sorted({s for lst in street_lists for s in lst})
    street_table = np.array([[streets_all.index(s) for s in lst] for lst in street_lists])
    a = gen.integers(0, 4, n)
    b = (a + gen.integers(1, 4, n)) % 4
    sr["int1"] = np.where(has_ward, street_table[wi, a], -1)
    sr["int2"] = np.where(has_ward & (gen.random(n) > 0.03), street_table[wi, b], -1)
    sr["street_values"] = streets_all


def _assign_bias(gen: np.random.Generator, seed: int, n_bia: int, month: np.ndarray) -> np.ndarray:
    """BIA index per SR (-1: none): ~8% of SRs, every BIA in every month."""
    bia_w = np.exp(np.random.default_rng([seed, 79]).normal(0, 0.5, n_bia))
    bia_idx = np.full(len(month), -1, np.int16)
    for m in range(12):
        rows = np.flatnonzero(month == m)
        if not len(rows):
            continue
        k = min(len(rows), max(int(round(BIA_SHARE * len(rows))), n_bia))
        chosen = gen.choice(rows, size=k, replace=False)
        vals = gen.choice(n_bia, size=k, p=bia_w / bia_w.sum())
        vals[: min(k, n_bia)] = gen.permutation(n_bia)[: min(k, n_bia)]
        bia_idx[chosen] = vals
    return bia_idx


def generate_service_requests(year: int, scale: float, seed: int, ref: dict, types: dict) -> dict:
    """The year's SRs as arrays of codes, sorted by creation time.

    ``channel`` is left at -1: ``interactions.generate_interactions`` sets it (the channel of
    the interaction that created the SR, or a drawn one).
    """
    gen = rng(seed, year, SR_STREAM)
    cal = Calendar(year)
    counts, n_nc = sr_type_counts(year, scale, ref, types)
    type_idx, created, cancelled = _creation(gen, cal, types, counts, n_nc, scale)
    ward_idx = _assign_wards(gen, ward_counts(year, scale, ref, n_nc), cancelled)
    order = np.argsort(created, kind="stable")
    n = len(type_idx)
    sr = {
        "n": n,
        "type": type_idx[order],
        "created": created[order],
        "cancelled": cancelled[order],
        "ward": ward_idx[order],
        "channel": np.full(n, -1, np.int8),
        "n_noncancelled": n_nc,
    }
    _close(gen, cal, seed, types, sr)
    _locate(gen, ref, sr)
    sr["bia"] = _assign_bias(gen, seed, len(ref["bias"]), cal.month[cal.day_index(sr["created"])])
    return sr


def write_service_requests(path: Path, year: int, sr: dict, ref: dict, types: dict) -> int:
    n = sr["n"]
    width = max(7, len(str(n)))
    ward_values = pa.array([f"{w['ward_name']} ({int(w['ward_number']):02d})" for w in ref["wards"]])
    names, secs = (pa.array(types[k], pa.string()) for k in ("names", "section"))
    divs = pa.array([division_in(d, year) for d in types["division"]], pa.string())
    bias = pa.array(ref["bias"], pa.string())
    fsa_values = pa.array(sr["fsa_values"], pa.string())
    street_values = pa.array(sr["street_values"], pa.string())

    def batch(lo: int, hi: int) -> dict[str, pa.Array]:
        s = slice(lo, hi)
        t = sr["type"][s]
        geo_null = sr["geo_null"][s]
        return {
            "sr_id": id_array(f"SR{year}-", np.arange(lo + 1, hi + 1), width),
            "created_at": ts(sr["created"][s]),
            "closed_at": ts(sr["closed"][s], sr["closed_null"][s]),
            "status": take(SR_STATUSES, sr["status"][s]),
            "sr_type": take(names, t),
            "division": take(divs, t),
            "section": take(secs, t),
            "ward": take(ward_values, sr["ward"][s]),
            "fsa": take(fsa_values, sr["fsa"][s]),
            "intersection_1": take(street_values, sr["int1"][s]),
            "intersection_2": take(street_values, sr["int2"][s]),
            "latitude": pa.array(np.round(sr["lat"][s], 6), mask=geo_null),
            "longitude": pa.array(np.round(sr["lon"][s], 6), mask=geo_null),
            "bia": take(bias, sr["bia"][s]),
            "channel": take(CHANNELS, sr["channel"][s]),
        }

    write_parquet(path, SERVICE_REQUESTS_SCHEMA, n, batch)
    return n
