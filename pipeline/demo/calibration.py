"""Calibration: the targets the demo hits and the counts that hit them exactly.

The published figures themselves are in ``pipeline/data/published_figures.yaml`` (read by
``reference.load_reference``); here are the plausible shapes around them (channel mix, hours,
seasons, storm day, phone targets) and the allocations that turn a published total into
integer counts per SR type, per ward and per channel.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..profile import load_profile
from .allocation import capped_allocation, largest_remainder, scaled
from .reference import NEW_TYPE_HOME
from .schema import CHANNELS, by_channel

# --- channel mix --------------------------------------------------------------------------
# 2024 shares of all interactions; 2023 counts follow from the change 2023 -> 2024
# (web, live_chat, mobile_app are the published changes; the others are plausible).
CHANNEL_SHARE_2024 = by_channel(
    {"phone": 0.575, "email": 0.100, "live_chat": 0.070, "web": 0.150,
     "mobile_app": 0.055, "social": 0.020, "in_person": 0.015, "other": 0.015}
)  # fmt: skip
CHANNEL_CHANGE_2024 = by_channel(
    {"phone": -0.05, "email": -0.03, "live_chat": 0.10, "web": 0.02,
     "mobile_app": 0.22, "social": -0.10, "in_person": -0.08, "other": 0.0}
)  # fmt: skip
# propensity of a channel for service-request / status-update interactions
SR_BONUS = by_channel(
    {"phone": 0.0, "email": 0.0, "live_chat": 0.0, "web": 0.55,
     "mobile_app": 0.65, "social": 0.10, "in_person": 0.0, "other": 0.0}
)  # fmt: skip
SU_BONUS = by_channel(
    {"phone": 0.10, "email": 0.05, "live_chat": 0.05, "web": 0.25,
     "mobile_app": 0.35, "social": 0.0, "in_person": 0.0, "other": 0.0}
)  # fmt: skip
# channel of SRs that were not created through a logged interaction
UNLINKED_SR_CHANNEL = by_channel(
    {"phone": 0.05, "email": 0.08, "live_chat": 0.02, "web": 0.45,
     "mobile_app": 0.36, "social": 0.02, "in_person": 0.01, "other": 0.01}
)  # fmt: skip

# --- hours of the day (relative weights, 00h..23h) -----------------------------------------
HOUR_PROFILE_SR = np.array(
    [0.4, 0.25, 0.15, 0.1, 0.1, 0.2, 0.6, 1.6, 3.2, 4.6, 5.0, 5.0,
     4.6, 4.8, 4.8, 4.6, 4.2, 3.6, 3.0, 2.6, 2.2, 1.8, 1.3, 0.8]
)  # fmt: skip
HOUR_PROFILE_PHONE = np.array(
    [0.25, 0.15, 0.1, 0.08, 0.08, 0.15, 0.5, 1.8, 4.2, 5.6, 6.0, 5.8,
     5.2, 5.4, 5.4, 5.0, 4.4, 3.4, 2.4, 1.8, 1.4, 1.1, 0.8, 0.5]
)  # fmt: skip
HOUR_PROFILE_DIGITAL = np.array(
    [0.8, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.8, 3.0, 3.8, 4.2, 4.3,
     4.2, 4.2, 4.1, 4.0, 3.8, 3.6, 3.4, 3.4, 3.3, 2.8, 2.0, 1.3]
)  # fmt: skip

# --- wards --------------------------------------------------------------------------------
# relative SR intensity per ward (x population): the shape of the ranking kept in both years.
# The wards' rates per 1,000 residents follow these, so no two wards share one (at least 0.015
# apart: about 2.5 SRs per 1,000 residents, so no two rates are equal to one decimal).
# Etobicoke-Lakeshore (3) and Don Valley East (16) take the published counts instead.
WARD_INTENSITY = {
    1: 1.05,
    2: 1.08,
    3: 1.0,
    4: 1.12,
    5: 1.10,
    6: 0.95,
    7: 1.00,
    8: 1.065,
    9: 1.15,
    10: 0.80,
    11: 0.935,
    12: 0.98,
    13: 0.90,
    14: 1.135,
    15: 0.92,
    16: 0.70,
    17: 0.815,
    18: 0.85,
    19: 1.20,
    20: 1.035,
    21: 0.885,
    22: 0.83,
    23: 0.78,
    24: 1.015,
    25: 0.965,
}
MOST_WARD, FEWEST_WARD = "Etobicoke-Lakeshore", "Don Valley East"
BLANK_WARD_SHARE = 0.005  # SRs without a ward

# --- events, phone, closing ---------------------------------------------------------------
# 16 July 2024: SRs created that day on top of a normal day: (type, before 16:00, after).
# Sewer and Catch Basin stay the day's 2 most frequent types, so its surge-day profile shows
# the published "over 700" and "over 200" requests by 4 p.m. (published_figures.yaml events).
STORM_DATE = dt.date(2024, 7, 16)
STORM_SRS = (
    ("Sewer Service Line-Blocked", 760, 330),
    ("Catch Basin - Blocked / Flooding", 235, 120),
    ("Tree Emergency Clean-Up", 130, 90),
    ("Storm Clean Up", 180, 140),
    ("Road - Cleaning/Debris", 60, 40),
    ("Water Service Line-Check Water Service Box", 50, 30),
)
# The report's phone definitions (the shipped city profile's standards), which the calibration
# must share: answered within SL_THRESHOLD_S seconds counts toward the service level; abandoned
# in less than SHORT_ABANDON_S seconds is a short abandon (left out of the service level).
_STANDARDS = load_profile().standards
SL_THRESHOLD_S = int(_STANDARDS["phone_service_level_seconds"])
SHORT_ABANDON_S = int(_STANDARDS["short_abandon_seconds"])
# phone targets (service level, ASA s, AHT s) where a year's figures do not publish them
UNPUBLISHED_PHONE_TARGETS = {2023: (0.81, 49.0, 286.0)}
MONTH_SL_OFFSET = np.array(
    [-0.035, -0.012, 0.0, 0.012, 0.016, 0.006, -0.040, 0.002, 0.012, 0.015, 0.018, 0.010]
)
SR_CANCELLED_SHARE = 0.025
EXTRACT_LAG_DAYS = 7  # each year's extract is taken a week after the year ends
# phone inquiries about the Vacant Home Tax per quarter of 2024 (published_figures.yaml events)
VHT_PHONE_CALLS_2024 = {0: 21950, 1: 21064}

# --- transfers and languages (illustrative: no yearly figure is published) ---------------
# Share of answered calls and chats transferred; the rest are handled without transfer
# (about 98% of calls). Vacant Home Tax calls are transferred less: the dedicated line's
# published "over 99% handled without transfer" (published_figures.yaml events).
PHONE_TRANSFER_RATE = {2023: 0.022, 2024: 0.018}  # a year not listed takes 2024's
CHAT_TRANSFER_RATE = 0.012
VHT_TRANSFER_RATE = 0.006
# Phone calls and chats whose transferred is blank (not recorded); other channels never record
# it. Interactions of any channel whose language is blank.
TRANSFER_NOT_RECORDED_SHARE = 0.012
LANGUAGE_NOT_RECORDED_SHARE = 0.015


def _seconds(hms: str) -> float:
    h, m, s = (int(part) for part in str(hms).split(":"))
    return float(3600 * h + 60 * m + s)


def phone_targets(year: int, ref: dict) -> tuple[float, float, float]:
    """(service level, ASA s, AHT s) of the year's answered calls: as published where the
    figures give them, else UNPUBLISHED_PHONE_TARGETS; a year without phone figures takes 2024's."""
    figures = ref["figures"]
    key = year if "phone" in figures.get(str(year), {}) else 2024
    phone = figures[str(key)]["phone"]
    sl, asa, aht = UNPUBLISHED_PHONE_TARGETS.get(key, (None, None, None))
    sl = phone.get("service_level", sl)
    if "average_speed_of_answer" in phone:
        asa = _seconds(phone["average_speed_of_answer"])
    if "average_call_handling_time" in phone:
        aht = _seconds(phone["average_call_handling_time"])
    return float(sl), float(asa), float(aht)


def sr_type_counts(year: int, scale: float, ref: dict, types: dict) -> tuple[np.ndarray, int]:
    """Non-cancelled SRs per type for the year (exact published top-N, capped remainder)."""
    fig = ref["figures"].get(str(year), {})
    total_pub = fig.get("service_requests_customer_initiated")
    if total_pub is None:
        total_pub = ref["figures"]["2024"]["service_requests_customer_initiated"]
    total = scaled(total_pub, scale)
    counts = np.zeros(len(types["names"]), np.int64)
    fixed = np.zeros(len(counts), bool)
    top = fig.get("top_service_requests", [])
    for item in top:
        i = types["index"][item["sr_type"]]
        counts[i] = scaled(item["count"], scale)
        fixed[i] = True
    new_mask = np.array(types["kind"]) == "new"
    if year == 2024:
        for i in np.flatnonzero(new_mask):
            counts[i] = scaled(NEW_TYPE_HOME.get(types["names"][i], ("", "", 200))[2], scale)
    fixed |= new_mask
    cap = (min(counts[[types["index"][t["sr_type"]] for t in top]]) - 1) if top else 10**12
    pool = np.where(fixed, 0.0, types["weight"])
    counts[~fixed] = capped_allocation(total - int(counts.sum()), pool, max(int(cap), 0))[~fixed]
    return counts, total


def _keep_extremes_strict(alloc: np.ndarray, most: int, fewest: int) -> np.ndarray:
    """Move SRs from the largest to the smallest ward until none reaches most or fewest."""
    for _ in range(1000):
        if not (alloc >= most).any() and not (alloc <= fewest).any():
            break
        j, k = int(np.argmax(alloc)), int(np.argmin(alloc))
        alloc[j] -= 1
        alloc[k] += 1
    return alloc


def ward_counts(year: int, scale: float, ref: dict, n_total: int) -> np.ndarray:
    """Non-cancelled SRs per ward (index 0..24) plus blank ward (index 25)."""
    wards = ref["wards"]
    fig = ref["figures"]
    ext = fig.get("2023", {}).get("ward_extremes", {})
    base_total = fig["2023"]["service_requests_customer_initiated"]
    year_total = fig.get(str(year), {}).get("service_requests_customer_initiated", base_total)
    ratio = year_total / base_total
    most = scaled(ext.get("most", {}).get("service_requests", 29536) * ratio, scale)
    fewest = scaled(ext.get("fewest", {}).get("service_requests", 11232) * ratio, scale)
    names = [w["ward_name"] for w in wards]
    i_most = names.index(ext.get("most", {}).get("ward_name", MOST_WARD))
    i_few = names.index(ext.get("fewest", {}).get("ward_name", FEWEST_WARD))
    blank = scaled(BLANK_WARD_SHARE * n_total / max(scale, 1e-12), scale)
    counts = np.zeros(26, np.int64)
    counts[25] = blank
    counts[i_most], counts[i_few] = most, fewest
    others = [i for i in range(25) if i not in (i_most, i_few)]
    w = np.array(
        [float(wards[i]["population"]) * WARD_INTENSITY[int(wards[i]["ward_number"])] for i in others]
    )
    alloc = largest_remainder(n_total - blank - most - fewest, w)
    counts[others] = _keep_extremes_strict(alloc, most, fewest)
    return counts


def channel_counts(year: int, scale: float, ref: dict) -> np.ndarray:
    """Interactions per channel (contract order): the 2024 mix, or 2023 from the changes."""
    total_2024 = scaled(ref["figures"]["2024"]["interactions_total"], scale)
    c24 = largest_remainder(total_2024, CHANNEL_SHARE_2024)
    if year >= 2024:
        return c24
    changes = CHANNEL_CHANGE_2024.copy()
    pub = ref["figures"]["2024"].get("channel_change_vs_2023", {})
    for name, v in pub.items():
        changes[CHANNELS.index(name)] = v
    return np.round(c24 / (1 + changes)).astype(np.int64)
