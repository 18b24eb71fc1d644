"""Deterministic synthetic ("demo") Toronto 311 data, calibrated to published figures.

``generate(raw_dir)`` writes, for each year, the three raw extracts the loader reads::

    raw_dir/<year>/interactions_<year>.parquet
    raw_dir/<year>/service_requests_<year>.parquet
    raw_dir/<year>/kb_views_<year>.parquet

plus ``raw_dir/DEMO_DATA.md`` saying the data is synthetic. Same arguments give
byte-identical files. The figures the annual report is checked against
(``pipeline/data/published_figures.yaml``) are hit exactly where the source gives an exact
number (SR totals, top SR types, ward extremes, Vacant Home Tax calls) and closely where it
is rounded (interaction totals and shares, phone service level, ASA, AHT).

Everything is vectorised with numpy; rows are written in chunks with a pyarrow
ParquetWriter, so ``scale=10`` stays within a few GB of memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from ..paths import DATA_DIR, SEEDS_DIR

CHANNELS = ("phone", "email", "live_chat", "web", "mobile_app", "social", "in_person", "other")
INTERACTION_TYPES = ("general_inquiry", "service_request", "status_update")
OUTCOMES = ("answered", "abandoned")
SR_STATUSES = ("initiated", "in_progress", "closed", "cancelled", "unknown")
PHONE, EMAIL, CHAT, WEB, APP, SOCIAL, INPERSON, OTHER = range(8)
GI, SRI, SU = range(3)
ST_INIT, ST_PROG, ST_CLOSED, ST_CANC, ST_UNKNOWN = range(5)

US = 1_000_000
DAY_US = 86_400 * US
CHUNK_ROWS = 500_000
# Parquet row groups of DuckDB's own row-group size: readers split a file across threads by row
# group, so one 500,000-row group per chunk kept a 2-core reader on one core.
ROW_GROUP_ROWS = 122_880

INTERACTIONS_SCHEMA = pa.schema(
    [
        ("interaction_id", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("interaction_type", pa.string()),
        ("topic", pa.string()),
        ("outcome", pa.string()),
        ("queue_seconds", pa.int32()),
        ("handle_seconds", pa.int32()),
        ("transferred", pa.bool_()),
        ("responded_at", pa.timestamp("us")),
        ("sr_id", pa.string()),
        ("language", pa.string()),
    ]
)
SERVICE_REQUESTS_SCHEMA = pa.schema(
    [
        ("sr_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("closed_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("sr_type", pa.string()),
        ("division", pa.string()),
        ("section", pa.string()),
        ("ward", pa.string()),
        ("fsa", pa.string()),
        ("intersection_1", pa.string()),
        ("intersection_2", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("bia", pa.string()),
        ("channel", pa.string()),
    ]
)
KB_VIEWS_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("article_id", pa.string()),
        ("article_title", pa.string()),
        ("views", pa.int64()),
    ]
)

# --- channel mix --------------------------------------------------------------------------
# 2024 shares of all interactions; 2023 counts follow from the change 2023 -> 2024
# (web, live_chat, mobile_app are the published changes; the others are plausible).
CHANNEL_SHARE_2024 = np.array([0.575, 0.100, 0.070, 0.150, 0.055, 0.020, 0.015, 0.015])
CHANNEL_CHANGE_2024 = np.array([-0.05, -0.03, 0.10, 0.02, 0.22, -0.10, -0.08, 0.0])
# propensity of a channel for service-request / status-update interactions
SR_BONUS = np.array([0.0, 0.0, 0.0, 0.55, 0.65, 0.10, 0.0, 0.0])
SU_BONUS = np.array([0.10, 0.05, 0.05, 0.25, 0.35, 0.0, 0.0, 0.0])
# channel of SRs that were not created through a logged interaction
UNLINKED_SR_CHANNEL = np.array([0.05, 0.08, 0.02, 0.45, 0.36, 0.02, 0.01, 0.01])

LANGUAGES = ("en", "fr", "zh", "pa", "es", "ta", "pt", "it", "ko", "tl", "ar", "fa")
LANGUAGE_P = np.array([0.885, 0.02, 0.03, 0.015, 0.013, 0.01, 0.008, 0.005, 0.004, 0.004, 0.003, 0.003])

TOPICS = (
    ("Property Tax Billing", 0.110),
    ("Vacant Home Tax", 0.0),
    ("Garbage Collection Schedule", 0.065),
    ("Water Billing", 0.055),
    ("Parking Tickets", 0.050),
    ("Green Bin Program", 0.040),
    ("Recycling - What Goes Where", 0.038),
    ("Bulky Item Pickup", 0.036),
    ("Building Permits", 0.034),
    ("Utility Bill Payment", 0.032),
    ("Recreation Programs Registration", 0.032),
    ("Street Parking Permits", 0.030),
    ("Dog and Cat Licensing", 0.028),
    ("Tax Rebates & Relief Programs", 0.026),
    ("Road Closures & Construction", 0.026),
    ("Snow Clearing", 0.024),
    ("Yard Waste Collection", 0.022),
    ("Zoning Inquiries", 0.022),
    ("Business Licences", 0.020),
    ("Short-Term Rental Registration", 0.018),
    ("Property Standards Inquiry", 0.018),
    ("Noise Bylaw", 0.018),
    ("Tree Services", 0.018),
    ("Animal Services", 0.018),
    ("Municipal Land Transfer Tax", 0.016),
    ("Marriage Licences", 0.015),
    ("Birth & Death Registration", 0.014),
    ("Affordable Housing & Shelter", 0.014),
    ("Employment & Social Services", 0.013),
    ("Toronto Public Health", 0.013),
    ("TTC & Transit Information", 0.012),
    ("Swimming Pools & Beaches", 0.012),
    ("Parks & Facility Permits", 0.012),
    ("Heat Relief & Cooling Centres", 0.010),
    ("Water Main Breaks & Service", 0.010),
    ("Fire Safety", 0.008),
    ("Councillor Contact", 0.008),
    ("Community Events & Festivals", 0.008),
    ("Election Information", 0.006),
    ("Other", 0.025),
)
VHT = 1

KB_ARTICLES = (
    ("Property Tax", 9000),
    ("Garbage & Recycling Schedule", 8200),
    ("Pay a Parking Ticket", 5200),
    ("Vacant Home Tax", 4800),
    ("Water & Solid Waste Utility Bill", 4300),
    ("Green Bin: What Goes In", 3600),
    ("Waste Wizard: Where Does It Go?", 3400),
    ("Oversized & Metal Item Collection", 2900),
    ("Residential Parking Permits", 2600),
    ("Building Permit Applications", 2300),
    ("Register for Recreation Programs", 2200),
    ("Property Tax Payment Options", 2100),
    ("Dispute a Parking Ticket", 1900),
    ("Garbage Bin Sizes & Fees", 1800),
    ("Yard Waste Collection", 1700),
    ("Pet Licensing", 1600),
    ("Property Tax & Utility Relief Programs", 1500),
    ("Snow Clearing & Winter Maintenance", 1450),
    ("Report a Pothole", 1400),
    ("Noise Bylaw", 1350),
    ("Short-Term Rentals", 1300),
    ("Marriage Licences", 1250),
    ("Birth, Death & Marriage Certificates", 1200),
    ("Tree Pruning & Removal", 1150),
    ("Wildlife in the City", 1100),
    ("Pools & Splash Pads", 1050),
    ("Basement Flooding Protection Subsidy", 1000),
    ("Sewer Backup & Blocked Drains", 980),
    ("Long Grass & Weeds", 950),
    ("Municipal Land Transfer Tax", 920),
    ("Business Licence Applications", 900),
    ("Property Standards for Rental Units", 880),
    ("Heat Relief Network & Cooling Centres", 860),
    ("Lost & Found Pets", 840),
    ("Road Restrictions & Closures", 820),
    ("Zoning By-law Information", 800),
    ("Hazardous Waste Drop-off Depots", 780),
    ("Community Environment Days", 760),
    ("Apply for a Dog Off-Leash Permit", 740),
    ("Fence & Pool Enclosure Permits", 720),
    ("Tenant Rights & Adequate Heat", 700),
    ("Water Meter Reading", 680),
    ("Sidewalk & Boulevard Maintenance", 660),
    ("Street Light Outage", 640),
    ("Graffiti Removal", 620),
    ("Illegal Dumping", 600),
    ("Bin Repair & Replacement", 590),
    ("Toronto Public Health Clinics", 580),
    ("Ontario Works & Social Assistance", 560),
    ("Shelter & Housing Help", 540),
    ("Affordable Housing Applications", 520),
    ("Park & Facility Permits", 500),
    ("Contact Your Councillor", 480),
    ("Election & Voter Information", 460),
    ("Fire Safety & Smoke Alarms", 440),
    ("Tree Planting Requests", 420),
    ("Accessible Transportation (Wheel-Trans)", 400),
    ("Filming Permits", 380),
    ("Festivals & Events Calendar", 360),
    ("Commercial Waste Collection", 340),
)

WARD_GEO = {  # approximate centroid (lat, lon), FSAs, main streets
    1: (43.735, -79.585, "M9V M9W M9R", "Finch Ave W|Kipling Ave|Albion Rd|Islington Ave"),
    2: (43.665, -79.545, "M9A M9B M9C M9P", "Bloor St W|Islington Ave|Eglinton Ave W|The Kingsway"),
    3: (43.615, -79.515, "M8V M8W M8X M8Y M8Z", "Lake Shore Blvd W|Kipling Ave|The Queensway|Royal York Rd"),
    4: (43.650, -79.455, "M6P M6R M6S M6K", "Roncesvalles Ave|Bloor St W|Queen St W|Parkside Dr"),
    5: (43.695, -79.500, "M6M M6N M9N", "Weston Rd|Jane St|Lawrence Ave W|Black Creek Dr"),
    6: (43.745, -79.470, "M3H M3J M3K M6A", "Bathurst St|Wilson Ave|Sheppard Ave W|Keele St"),
    7: (43.755, -79.525, "M3M M3N M9L M9M", "Jane St|Finch Ave W|Steeles Ave W|Driftwood Ave"),
    8: (43.720, -79.435, "M5M M6B M6E", "Eglinton Ave W|Dufferin St|Lawrence Ave W|Avenue Rd"),
    9: (43.665, -79.440, "M6G M6H M6J", "Dufferin St|Dundas St W|College St|Ossington Ave"),
    10: (43.640, -79.395, "M5V M5J M6K", "King St W|Spadina Ave|Front St W|Bathurst St"),
    11: (43.668, -79.400, "M5R M5S M5T M4Y", "Bloor St W|Spadina Ave|College St|Yonge St"),
    12: (43.695, -79.410, "M4V M5P M6C M4S", "St Clair Ave W|Avenue Rd|Bathurst St|Yonge St"),
    13: (43.660, -79.370, "M5A M5B M4X M5C", "Dundas St E|Sherbourne St|Jarvis St|Gerrard St E"),
    14: (43.675, -79.340, "M4J M4K M4M", "Danforth Ave|Pape Ave|Broadview Ave|Gerrard St E"),
    15: (43.720, -79.380, "M4N M4G M3C M4P", "Bayview Ave|Lawrence Ave E|Eglinton Ave E|Leslie St"),
    16: (43.740, -79.330, "M3A M3B M4A", "Victoria Park Ave|Lawrence Ave E|Don Mills Rd|Eglinton Ave E"),
    17: (43.780, -79.360, "M2H M2J M2K", "Sheppard Ave E|Don Mills Rd|Finch Ave E|Leslie St"),
    18: (43.770, -79.405, "M2N M2M M2R", "Yonge St|Sheppard Ave E|Finch Ave W|Bayview Ave"),
    19: (43.685, -79.305, "M4C M4E M4L M4B", "Queen St E|Kingston Rd|Woodbine Ave|Coxwell Ave"),
    20: (43.715, -79.255, "M1N M1M M1L", "Kingston Rd|Danforth Rd|Warden Ave|Birchmount Rd"),
    21: (43.760, -79.270, "M1H M1P M1J", "McCowan Rd|Ellesmere Rd|Lawrence Ave E|Brimley Rd"),
    22: (43.790, -79.290, "M1S M1T M1W", "Sheppard Ave E|Kennedy Rd|Midland Ave|Finch Ave E"),
    23: (43.815, -79.245, "M1V M1X", "Markham Rd|Steeles Ave E|Finch Ave E|McNicoll Ave"),
    24: (43.760, -79.200, "M1E M1G", "Kingston Rd|Morningside Ave|Lawrence Ave E|Galloway Rd"),
    25: (43.795, -79.165, "M1B M1C", "Sheppard Ave E|Morningside Ave|Meadowvale Rd|Old Kingston Rd"),
}
# relative SR intensity per ward (x population): the shape of the ranking kept in both years
WARD_INTENSITY = {
    1: 1.05,
    2: 1.08,
    3: 1.0,
    4: 1.12,
    5: 1.10,
    6: 0.95,
    7: 1.00,
    8: 1.10,
    9: 1.15,
    10: 0.80,
    11: 0.95,
    12: 0.98,
    13: 0.90,
    14: 1.12,
    15: 0.92,
    16: 0.70,
    17: 0.80,
    18: 0.85,
    19: 1.20,
    20: 1.05,
    21: 0.92,
    22: 0.82,
    23: 0.78,
    24: 1.0,
    25: 0.98,
}
MOST_WARD, FEWEST_WARD = "Etobicoke-Lakeshore", "Don Valley East"

# published display names -> catalogue spellings they replace (excluded from the pool)
CATALOGUE_DUPLICATES = {
    "Injured Wildlife": ("Injured - Wildlife",),
    "Dead Wildlife Pickup": ("Cadaver - Wildlife", "Pick up Dead Wildlife"),
    "Residential Bin Lid Damaged": ("Residential: Bin: Repair or Replace Lid",),
    "Property Standards & Maintenance Violations": (
        "Property Standards",
        "Property Standards and Maintenance Violations",
    ),
    "Residential Bin Body or Handle Damaged": ("Residential: Bin: Repair or Replace Body/Handle",),
    "Residential Oversized/Electronics Item Day Collection - Not Picked Up": (
        "Residential Oversized/Electronics Item Day Collection Not Picked Up",
    ),
    "Road - Pot hole": ("Road Pothole / Road Damage",),
}
# division/section for names that are not spelled that way in the catalogue
DISPLAY_NAME_HOME = {
    "Injured Wildlife": "Injured - Wildlife",
    "Dead Wildlife Pickup": "Cadaver - Wildlife",
    "Property Standards & Maintenance Violations": "Property Standards and Maintenance Violations",
    "Residential Oversized/Electronics Item Day Collection - Not Picked Up": "Residential Oversized/Electronics Item Day Collection Not Picked Up",
}
NEW_TYPE_HOME = {
    "Excessive Heat in a Rental Unit": ("Municipal Licensing & Standards", "Investigation Services", 460),
    "Non-Enforceable Excessive Heat in a Rental Unit": (
        "Municipal Licensing & Standards",
        "Investigation Services",
        210,
    ),
    "City of Toronto Vehicle Driver Complaint": ("Fleet Services", "Fleet Safety", 380),
    "Escalation - Fleet Services": ("Fleet Services", "Fleet Safety", 160),
    "City of Toronto Vehicle Driver Compliment": ("Fleet Services", "Fleet Safety", 150),
    "Construction Noise - During Permitted Hours": (
        "Municipal Licensing & Standards",
        "Bylaw Enforcement",
        520,
    ),
    "Power Device Noise - During Permitted Hours": (
        "Municipal Licensing & Standards",
        "Bylaw Enforcement",
        240,
    ),
}
# 16 July 2024: SRs created that day on top of a normal day: (type, before 16:00, after)
STORM_DATE = dt.date(2024, 7, 16)
STORM_SRS = (
    ("Sewer Service Line-Blocked", 760, 330),
    ("Catch Basin - Blocked / Flooding", 235, 120),
    ("Tree Emergency Clean-Up", 260, 180),
    ("Storm Clean Up", 180, 140),
    ("Road - Cleaning/Debris", 60, 40),
    ("Water Service Line-Check Water Service Box", 50, 30),
)
# phone answered-call targets (service level, ASA, AHT) per year; others fall back to 2024
PHONE_TARGETS = {2023: (0.81, 49.0, 286.0), 2024: (0.82, 47.0, 292.0)}
MONTH_SL_OFFSET = np.array(
    [-0.035, -0.012, 0.0, 0.012, 0.016, 0.006, -0.040, 0.002, 0.012, 0.015, 0.018, 0.010]
)
SR_CANCELLED_SHARE = 0.025
EXTRACT_LAG_DAYS = 7  # each year's extract is taken a week after the year ends


# ------------------------------------------------------------------------------------------
# reference data
# ------------------------------------------------------------------------------------------
def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _load_reference() -> dict:
    figures = yaml.safe_load((DATA_DIR / "published_figures.yaml").read_text(encoding="utf-8"))
    wards = _read_csv(SEEDS_DIR / "wards.csv")
    bias = [r["bia_name"] for r in _read_csv(SEEDS_DIR / "bias.csv")]
    catalogue: dict[str, list] = {}
    for r in _read_csv(SEEDS_DIR / "sr_type_catalogue.csv"):
        name = r["sr_type"].strip()
        vol = int(r["requests_2022_2026"] or 0)
        if name in catalogue:
            catalogue[name][2] += vol
        else:
            catalogue[name] = [r["division"], r["section"], vol]
    return {"figures": figures, "wards": wards, "bias": bias, "catalogue": catalogue}


def _type_table(ref: dict) -> dict:
    """Unified list of SR types: published names, new 2024 types, then the catalogue pool."""
    fig, cat = ref["figures"], ref["catalogue"]
    published: list[str] = []
    for year in ("2024", "2023"):
        for item in fig.get(year, {}).get("top_service_requests", []):
            if item["sr_type"] not in published:
                published.append(item["sr_type"])
    new_types = list(fig.get("2024", {}).get("new_sr_types_2024", []))
    excluded = set(published) | set(new_types)
    for name in published:
        excluded.update(CATALOGUE_DUPLICATES.get(name, ()))
    names, divisions, sections, weights, kinds = [], [], [], [], []
    for name in published:
        home = cat.get(name) or cat.get(DISPLAY_NAME_HOME.get(name, ""), None)
        div, sec, vol = home if home else ("Municipal Licensing & Standards", "Investigation Services", 1000)
        names.append(name)
        divisions.append(div)
        sections.append(sec)
        weights.append(float(vol))
        kinds.append("published")
    for name in new_types:
        div, sec, _ = NEW_TYPE_HOME.get(name, ("Municipal Licensing & Standards", "Bylaw Enforcement", 200))
        names.append(name)
        divisions.append(div)
        sections.append(sec)
        weights.append(0.0)
        kinds.append("new")
    for name, (div, sec, vol) in cat.items():
        if name in excluded or vol <= 0:
            continue
        names.append(name)
        divisions.append(div)
        sections.append(sec)
        weights.append(float(vol))
        kinds.append("catalogue")
    group = np.zeros(len(names), np.int8)  # 0 default, 1 wildlife, 2 snow/ice, 3 summer, 4 new
    for i, n in enumerate(names):
        low = n.lower()
        if kinds[i] == "new":
            group[i] = 4
        elif "Wildlife" in n:
            group[i] = 1
        elif (
            "Snow" in n
            or "Ice" in n
            or "plow" in low
            or "plough" in low
            or "salting" in low
            or "winter" in low
            or n == "Adequate Heat"
        ):
            group[i] = 2
        elif "Pruning" in n or "grass" in low or "weeds" in low or "Amplified" in n or "Pool" in n:
            group[i] = 3
    return {
        "names": names,
        "division": divisions,
        "section": sections,
        "weight": np.array(weights),
        "kind": kinds,
        "group": group,
        "index": {n: i for i, n in enumerate(names)},
    }


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------
def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
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


def _capped_allocation(total: int, weights: np.ndarray, cap: int) -> np.ndarray:
    """Largest-remainder allocation with every count <= cap (water filling)."""
    w = np.asarray(weights, float).copy()
    out = np.zeros(len(w), np.int64)
    fixed = np.zeros(len(w), bool)
    remaining = total
    for _ in range(len(w) + 1):
        alloc = _largest_remainder(remaining, np.where(fixed, 0.0, w))
        over = (~fixed) & (alloc > cap)
        if not over.any():
            out[~fixed] = alloc[~fixed]
            return out
        out[over] = cap
        fixed |= over
        remaining = total - int(out[fixed].sum())
    raise ValueError("cannot allocate under the cap")


def _scaled(value: float, scale: float) -> int:
    return int(round(value * scale))


def _easter(year: int) -> dt.date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    d = dt.date(year, month, 1)
    d += dt.timedelta(days=(weekday - d.weekday()) % 7 + 7 * (n - 1))
    return d


def _holidays(year: int) -> set[dt.date]:
    victoria = dt.date(year, 5, 24)
    victoria -= dt.timedelta(days=victoria.weekday())
    return {
        dt.date(year, 1, 1),
        _nth_weekday(year, 2, 0, 3),
        _easter(year) - dt.timedelta(days=2),
        victoria,
        dt.date(year, 7, 1),
        _nth_weekday(year, 8, 0, 1),
        _nth_weekday(year, 9, 0, 1),
        _nth_weekday(year, 10, 0, 2),
        dt.date(year, 12, 25),
        dt.date(year, 12, 26),
    }


class _Calendar:
    """Day grid of one year: day starts (µs, naive local), months, weekday and season factors."""

    def __init__(self, year: int):
        self.year = year
        days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
        self.n = len(days)
        self.day_us = days.astype("datetime64[us]").astype(np.int64)
        self.month = days.astype("datetime64[M]").astype(np.int64) % 12  # 0..11
        self.weekday = (days.astype(np.int64) + 3) % 7  # Monday = 0
        self.doy = np.arange(self.n)
        hol = _holidays(year)
        self.holiday = np.array(
            [dt.date(year, 1, 1) + dt.timedelta(days=int(i)) in hol for i in range(self.n)]
        )
        self.dst_start = _nth_weekday(year, 3, 6, 2)
        self.dst_end = _nth_weekday(year, 11, 6, 1)

    def index_of(self, date: dt.date) -> int | None:
        if date.year != self.year:
            return None
        return (date - dt.date(self.year, 1, 1)).days

    def season(self, peak_doy: float, amplitude: float) -> np.ndarray:
        return 1.0 + amplitude * np.cos(2 * np.pi * (self.doy - peak_doy) / 365.25)

    def weekday_factor(self, weekend: float, holiday: float) -> np.ndarray:
        f = np.where(self.weekday >= 5, weekend, 1.0)
        f = np.where(self.weekday == 0, f * 1.08, f)
        return np.where(self.holiday, f * holiday, f)


def _fix_dst_gap(us: np.ndarray, year: int) -> np.ndarray:
    """Move naive local times that fall in the spring-forward gap (02:00-02:59) one hour on."""
    start = (
        np.datetime64(_nth_weekday(year, 3, 6, 2)).astype("datetime64[us]").astype(np.int64) + 2 * 3600 * US
    )
    gap = (us >= start) & (us < start + 3600 * US)
    if gap.any():
        us = us.copy()
        us[gap] += 3600 * US
    return us


def _fix_dst_gap_any(us: np.ndarray, years) -> np.ndarray:
    for y in years:
        us = _fix_dst_gap(us, y)
    return us


HOUR_PROFILE_SR = np.array(
    [
        0.4,
        0.25,
        0.15,
        0.1,
        0.1,
        0.2,
        0.6,
        1.6,
        3.2,
        4.6,
        5.0,
        5.0,
        4.6,
        4.8,
        4.8,
        4.6,
        4.2,
        3.6,
        3.0,
        2.6,
        2.2,
        1.8,
        1.3,
        0.8,
    ]
)
HOUR_PROFILE_PHONE = np.array(
    [
        0.25,
        0.15,
        0.1,
        0.08,
        0.08,
        0.15,
        0.5,
        1.8,
        4.2,
        5.6,
        6.0,
        5.8,
        5.2,
        5.4,
        5.4,
        5.0,
        4.4,
        3.4,
        2.4,
        1.8,
        1.4,
        1.1,
        0.8,
        0.5,
    ]
)
HOUR_PROFILE_DIGITAL = np.array(
    [
        0.8,
        0.5,
        0.3,
        0.2,
        0.2,
        0.3,
        0.8,
        1.8,
        3.0,
        3.8,
        4.2,
        4.3,
        4.2,
        4.2,
        4.1,
        4.0,
        3.8,
        3.6,
        3.4,
        3.4,
        3.3,
        2.8,
        2.0,
        1.3,
    ]
)


def _time_of_day(rng, n: int, profile: np.ndarray, lo_hour: int = 0, hi_hour: int = 24) -> np.ndarray:
    p = np.zeros(24)
    p[lo_hour:hi_hour] = profile[lo_hour:hi_hour]
    hour = rng.choice(24, size=n, p=p / p.sum())
    return (hour.astype(np.int64) * 3600 + rng.integers(0, 3600, n)) * US


def _sample_days(rng, n: int, weights: np.ndarray) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _id_array(prefix: str, nums: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-width ids such as ``SR2024-0000001`` built straight into an Arrow buffer."""
    nums = np.asarray(nums, np.int64)
    n = len(nums)
    p = np.frombuffer(prefix.encode("ascii"), np.uint8)
    length = len(p) + width
    buf = np.empty((n, length), np.uint8)
    buf[:, : len(p)] = p
    digits = nums.copy()
    for k in range(width):
        buf[:, length - 1 - k] = 48 + digits % 10
        digits //= 10
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    validity = None
    null_count = 0
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        null_count = int((~valid).sum())
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes())], null_count
    )


def _take(values, idx: np.ndarray) -> pa.Array:
    """Strings from a small dictionary; negative index -> null."""
    idx = np.asarray(idx)
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    neg = idx < 0
    indices = pa.array(np.where(neg, 0, idx).astype(np.int32), mask=neg if neg.any() else None)
    return pc.take(dictionary, indices)


def _ts(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    arr = np.asarray(us, np.int64).view("datetime64[us]")
    if null is not None and null.any():
        return pa.array(arr, type=pa.timestamp("us"), mask=null)
    return pa.array(arr, type=pa.timestamp("us"))


def _write_parquet(path: Path, schema: pa.Schema, n: int, make_batch) -> None:
    """Write ``make_batch(lo, hi)`` chunks to ``path`` via a temporary file + os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with pq.ParquetWriter(
        tmp, schema, compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True
    ) as writer:
        for lo in range(0, max(n, 1), CHUNK_ROWS):
            hi = min(n, lo + CHUNK_ROWS)
            table = pa.Table.from_arrays(make_batch(lo, hi), schema=schema)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    os.replace(tmp, path)


def _rng(seed: int, year: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, year, stream])


# ------------------------------------------------------------------------------------------
# service requests
# ------------------------------------------------------------------------------------------
def _sr_type_counts(year: int, scale: float, ref: dict, types: dict) -> tuple[np.ndarray, int]:
    """Non-cancelled SRs per type for the year (exact published top-N, capped remainder)."""
    fig = ref["figures"].get(str(year), {})
    total_pub = fig.get("service_requests_customer_initiated")
    if total_pub is None:
        total_pub = ref["figures"]["2024"]["service_requests_customer_initiated"]
    total = _scaled(total_pub, scale)
    counts = np.zeros(len(types["names"]), np.int64)
    fixed = np.zeros(len(counts), bool)
    top = fig.get("top_service_requests", [])
    for item in top:
        i = types["index"][item["sr_type"]]
        counts[i] = _scaled(item["count"], scale)
        fixed[i] = True
    kinds = np.array(types["kind"])
    new_mask = kinds == "new"
    if year == 2024:
        for i in np.flatnonzero(new_mask):
            counts[i] = _scaled(NEW_TYPE_HOME.get(types["names"][i], ("", "", 200))[2], scale)
    fixed |= new_mask
    cap = (min(counts[[types["index"][t["sr_type"]] for t in top]]) - 1) if top else 10**12
    pool = np.where(fixed, 0.0, types["weight"])
    counts[~fixed] = _capped_allocation(total - int(counts.sum()), pool, max(int(cap), 0))[~fixed]
    return counts, total


def _ward_counts(year: int, scale: float, ref: dict, n_total: int) -> np.ndarray:
    """Non-cancelled SRs per ward (index 0..24) plus blank ward (index 25)."""
    wards = ref["wards"]
    fig = ref["figures"]
    ext = fig.get("2023", {}).get("ward_extremes", {})
    base_total = fig["2023"]["service_requests_customer_initiated"]
    year_total = fig.get(str(year), {}).get("service_requests_customer_initiated", base_total)
    ratio = year_total / base_total
    most = _scaled(ext.get("most", {}).get("service_requests", 29536) * ratio, scale)
    fewest = _scaled(ext.get("fewest", {}).get("service_requests", 11232) * ratio, scale)
    names = [w["ward_name"] for w in wards]
    i_most, i_few = (
        names.index(ext.get("most", {}).get("ward_name", MOST_WARD)),
        names.index(ext.get("fewest", {}).get("ward_name", FEWEST_WARD)),
    )
    blank = _scaled(0.005 * n_total / max(scale, 1e-12), scale)
    counts = np.zeros(26, np.int64)
    counts[25] = blank
    counts[i_most], counts[i_few] = most, fewest
    others = [i for i in range(25) if i not in (i_most, i_few)]
    w = np.array(
        [float(wards[i]["population_2021"]) * WARD_INTENSITY[int(wards[i]["ward_number"])] for i in others]
    )
    rest = n_total - blank - most - fewest
    alloc = _largest_remainder(rest, w)
    # keep the extremes strict: nudge any ward that reaches them
    for _ in range(1000):
        hi = alloc >= most
        lo = alloc <= fewest
        if not hi.any() and not lo.any():
            break
        if hi.any():
            j = int(np.argmax(alloc))
            k = int(np.argmin(alloc))
        else:
            j = int(np.argmax(alloc))
            k = int(np.argmin(alloc))
        alloc[j] -= 1
        alloc[k] += 1
    counts[others] = alloc
    return counts


def _gen_service_requests(year: int, scale: float, seed: int, ref: dict, types: dict) -> dict:
    rng = _rng(seed, year, 1)
    cal = _Calendar(year)
    counts, n_nc = _sr_type_counts(year, scale, ref, types)
    n_types = len(counts)
    storm_idx = cal.index_of(STORM_DATE)

    # storm SRs come out of their type's annual count
    storm_before = np.zeros(n_types, np.int64)
    storm_after = np.zeros(n_types, np.int64)
    if storm_idx is not None:
        for name, before, after in STORM_SRS:
            i = types["index"].get(name)
            if i is None:
                continue
            b, a = _scaled(before, scale), _scaled(after, scale)
            take = min(b + a, int(counts[i]))
            storm_before[i] = min(b, take)
            storm_after[i] = take - storm_before[i]
    normal = counts - storm_before - storm_after

    n_canc = _scaled(SR_CANCELLED_SHARE * n_nc / max(scale, 1e-12), scale)
    canc_types = (
        rng.choice(n_types, size=n_canc, p=counts / counts.sum()) if n_canc else np.zeros(0, np.int64)
    )

    type_idx = np.concatenate([np.repeat(np.arange(n_types), normal), canc_types]).astype(np.int32)
    n_normal = len(type_idx)

    # day weights per type group
    weekday = cal.weekday_factor(0.72, 0.78)
    group_w = {
        0: cal.season(196, 0.22) * weekday,
        1: cal.season(140, 0.85) * weekday,
        2: np.exp(2.4 * np.cos(2 * np.pi * (cal.doy - 20) / 365.25)) * weekday,
        3: cal.season(200, 0.80) * weekday,
        4: np.where(cal.doy >= (dt.date(year, 7, 1) - dt.date(year, 1, 1)).days, 1.0, 0.0) * weekday,
    }
    day = np.empty(n_normal, np.int64)
    grp = types["group"][type_idx]
    for g, w in group_w.items():
        sel = np.flatnonzero(grp == g)
        if len(sel):
            if w.sum() <= 0:
                w = weekday.copy()
            day[sel] = _sample_days(rng, len(sel), w)
    tod = _time_of_day(rng, n_normal, HOUR_PROFILE_SR)

    # storm-day SRs
    sb_types = np.repeat(np.arange(n_types), storm_before).astype(np.int32)
    sa_types = np.repeat(np.arange(n_types), storm_after).astype(np.int32)
    storm_types = np.concatenate([sb_types, sa_types])
    storm_tod = np.concatenate(
        [
            _time_of_day(rng, len(sb_types), HOUR_PROFILE_SR, 5, 16),
            _time_of_day(rng, len(sa_types), HOUR_PROFILE_SR, 16, 24),
        ]
    )
    type_idx = np.concatenate([type_idx, storm_types])
    day = np.concatenate([day, np.full(len(storm_types), storm_idx or 0, np.int64)])
    tod = np.concatenate([tod, storm_tod])
    cancelled = np.zeros(len(type_idx), bool)
    cancelled[n_normal - n_canc : n_normal] = True
    created = _fix_dst_gap(cal.day_us[day] + tod, year)
    n = len(type_idx)

    # wards: exact multiplicities for non-cancelled SRs
    wc = _ward_counts(year, scale, ref, n_nc)
    ward_idx = np.empty(n, np.int16)
    ward_nc = rng.permutation(np.repeat(np.arange(26), wc)).astype(np.int16)
    ward_idx[~cancelled] = ward_nc[: int((~cancelled).sum())]
    wp = wc / wc.sum()
    ward_idx[cancelled] = rng.choice(26, size=int(cancelled.sum()), p=wp)
    ward_idx[ward_idx == 25] = -1

    order = np.argsort(created, kind="stable")
    type_idx, created, cancelled, ward_idx = (
        type_idx[order],
        created[order],
        cancelled[order],
        ward_idx[order],
    )
    month = cal.month[((created - cal.day_us[0]) // DAY_US).clip(0, cal.n - 1)]

    # closing and status
    extract_us = cal.day_us[-1] + (1 + EXTRACT_LAG_DAYS) * DAY_US
    trng = np.random.default_rng([seed, 77])  # per-type medians are the same in every year
    type_median_days = np.exp(trng.normal(np.log(3.0), 0.7, n_types)).clip(0.3, 25)
    for name, med in (
        ("General Pruning", 45.0),
        ("Residential Bin Lid Damaged", 6.0),
        ("Injured Wildlife", 0.4),
        ("Dead Wildlife Pickup", 1.2),
        ("Sewer Service Line-Blocked", 1.5),
    ):
        if name in types["index"]:
            type_median_days[types["index"][name]] = med
    dur_days = type_median_days[type_idx] * np.exp(rng.normal(0.0, 1.0, n))
    dur_us = np.maximum((dur_days * DAY_US).astype(np.int64), 600 * US)
    closed = created + dur_us
    status = np.full(n, ST_CLOSED, np.int8)
    age_days = (extract_us - created) / DAY_US
    p_open = 0.052 + 0.5 * np.exp(-age_days / 25.0)
    still_open = (closed > extract_us) | (rng.random(n) < p_open)
    status[still_open] = np.where(rng.random(int(still_open.sum())) < 0.6, ST_PROG, ST_INIT)
    unknown = rng.random(n) < 0.005
    status[unknown] = ST_UNKNOWN
    closed_null = still_open | unknown
    # cancelled: usually closed within a couple of days
    canc_dur = np.maximum((np.exp(rng.normal(np.log(1.0), 1.0, n)) * DAY_US).astype(np.int64), 300 * US)
    status[cancelled] = ST_CANC
    closed = np.where(cancelled, created + canc_dur, closed)
    closed_null = np.where(cancelled, (rng.random(n) < 0.1) | (created + canc_dur > extract_us), closed_null)
    closed = _fix_dst_gap_any(closed, (year, year + 1))
    closed = np.where(closed_null, 0, np.maximum(closed, created + 60 * US))

    # location
    wards = ref["wards"]
    geo = [WARD_GEO[int(w["ward_number"])] for w in wards]
    lat0 = np.array([g[0] for g in geo])
    lon0 = np.array([g[1] for g in geo])
    has_ward = ward_idx >= 0
    wi = np.where(has_ward, ward_idx, 0)
    lat = (lat0[wi] + rng.normal(0, 0.011, n)).clip(43.585, 43.855)
    lon = (lon0[wi] + rng.normal(0, 0.016, n)).clip(-79.635, -79.125)
    geo_null = (rng.random(n) < 0.045) | ~has_ward
    fsa_lists = [g[2].split() for g in geo]
    fsa_all = sorted({f for lst in fsa_lists for f in lst})
    fsa_table = np.array([[fsa_all.index(lst[k % len(lst)]) for k in range(6)] for lst in fsa_lists])
    fsa_idx = fsa_table[wi, rng.integers(0, 6, n)]
    fsa_idx = np.where(has_ward & (rng.random(n) > 0.01), fsa_idx, -1)
    street_lists = [g[3].split("|") for g in geo]
    streets_all = sorted({s for lst in street_lists for s in lst})
    street_table = np.array([[streets_all.index(s) for s in lst] for lst in street_lists])
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    int1 = np.where(has_ward, street_table[wi, a], -1)
    int2 = np.where(has_ward & (rng.random(n) > 0.03), street_table[wi, b], -1)

    # BIA: ~8% of SRs, every BIA in every month
    n_bia = len(ref["bias"])
    bia_w = np.exp(np.random.default_rng([seed, 79]).normal(0, 0.5, n_bia))
    bia_idx = np.full(n, -1, np.int16)
    for m in range(12):
        rows = np.flatnonzero(month == m)
        if not len(rows):
            continue
        k = min(len(rows), max(int(round(0.08 * len(rows))), n_bia))
        chosen = rng.choice(rows, size=k, replace=False)
        vals = rng.choice(n_bia, size=k, p=bia_w / bia_w.sum())
        vals[: min(k, n_bia)] = rng.permutation(n_bia)[: min(k, n_bia)]
        bia_idx[chosen] = vals

    return {
        "n": n,
        "type": type_idx,
        "created": created,
        "closed": closed,
        "closed_null": closed_null,
        "status": status,
        "ward": ward_idx,
        "lat": lat,
        "lon": lon,
        "geo_null": geo_null,
        "fsa": fsa_idx,
        "fsa_values": fsa_all,
        "int1": int1,
        "int2": int2,
        "street_values": streets_all,
        "bia": bia_idx,
        "channel": np.full(n, -1, np.int8),
        "cancelled": cancelled,
        "n_noncancelled": n_nc,
    }


def _write_service_requests(path: Path, year: int, sr: dict, ref: dict, types: dict) -> int:
    n = sr["n"]
    width = max(7, len(str(n)))
    wards = ref["wards"]
    ward_values = pa.array([f"{w['ward_name']} ({int(w['ward_number']):02d})" for w in wards])
    names, divs, secs = (pa.array(types[k], pa.string()) for k in ("names", "division", "section"))
    bias = pa.array(ref["bias"], pa.string())
    fsa_values = pa.array(sr["fsa_values"], pa.string())
    street_values = pa.array(sr["street_values"], pa.string())

    def batch(lo: int, hi: int):
        s = slice(lo, hi)
        t = sr["type"][s]
        geo_null = sr["geo_null"][s]
        return [
            _id_array(f"SR{year}-", np.arange(lo + 1, hi + 1), width),
            _ts(sr["created"][s]),
            _ts(sr["closed"][s], sr["closed_null"][s]),
            _take(SR_STATUSES, sr["status"][s]),
            _take(names, t),
            _take(divs, t),
            _take(secs, t),
            _take(ward_values, sr["ward"][s]),
            _take(fsa_values, sr["fsa"][s]),
            _take(street_values, sr["int1"][s]),
            _take(street_values, sr["int2"][s]),
            pa.array(np.round(sr["lat"][s], 6), mask=geo_null),
            pa.array(np.round(sr["lon"][s], 6), mask=geo_null),
            _take(bias, sr["bia"][s]),
            _take(CHANNELS, sr["channel"][s]),
        ]

    _write_parquet(path, SERVICE_REQUESTS_SCHEMA, n, batch)
    return n


# ------------------------------------------------------------------------------------------
# interactions
# ------------------------------------------------------------------------------------------
def _channel_counts(year: int, scale: float, ref: dict) -> np.ndarray:
    total_2024 = _scaled(ref["figures"]["2024"]["interactions_total"], scale)
    c24 = _largest_remainder(total_2024, CHANNEL_SHARE_2024)
    if year >= 2024:
        return c24
    changes = CHANNEL_CHANGE_2024.copy()
    pub = ref["figures"]["2024"].get("channel_change_vs_2023", {})
    for name, v in pub.items():
        changes[CHANNELS.index(name)] = v
    return np.round(c24 / (1 + changes)).astype(np.int64)


def _exact_sum_adjust(rng, values: np.ndarray, floor: int, target_sum: int) -> np.ndarray:
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


def _gen_interactions(year: int, scale: float, seed: int, ref: dict, sr: dict) -> dict:
    rng = _rng(seed, year, 2)
    cal = _Calendar(year)
    ch_counts = _channel_counts(year, scale, ref)
    n = int(ch_counts.sum())
    shares = ref["figures"]["2024"]["interaction_type_share"]
    n_sr_int = min(int(round(shares["service_request"] * n)), sr["n"])
    n_su = int(round(shares["status_update"] * n))

    channel = rng.permutation(np.repeat(np.arange(8), ch_counts)).astype(np.int8)
    itype = np.full(n, GI, np.int8)
    key = rng.random(n) + SR_BONUS[channel]
    sr_rows = np.argpartition(-key, n_sr_int - 1)[:n_sr_int] if n_sr_int else np.zeros(0, np.int64)
    itype[sr_rows] = SRI
    key2 = rng.random(n) + SU_BONUS[channel]
    key2[sr_rows] = -1.0
    if n_su:
        itype[np.argpartition(-key2, n_su - 1)[:n_su]] = SU

    started = np.empty(n, np.int64)
    sr_ref = np.full(n, -1, np.int64)
    # service-request interactions: each creates one SR, started a few minutes before it
    sr_rows = np.sort(sr_rows)
    linked = rng.permutation(sr["n"])[:n_sr_int]
    created = sr["created"][linked]
    since_midnight = (created - cal.day_us[0]) % DAY_US
    lead = np.minimum(rng.gamma(2.0, 120.0, n_sr_int).astype(np.int64) * US, since_midnight)
    started[sr_rows] = created - lead
    sr_ref[sr_rows] = linked
    sr["channel"][linked] = channel[sr_rows]
    unlinked = sr["channel"] < 0
    sr["channel"][unlinked] = rng.choice(8, size=int(unlinked.sum()), p=UNLINKED_SR_CHANNEL)

    # the rest: seasonal day weights by channel
    storm_idx = cal.index_of(STORM_DATE)
    other = np.flatnonzero(itype != SRI)
    ch_o = channel[other]
    season = cal.season(200, 0.12)
    for c in range(8):
        sel = other[ch_o == c]
        if not len(sel):
            continue
        if c in (PHONE, CHAT, INPERSON):
            w = season * cal.weekday_factor(0.55, 0.6)
        else:
            w = season * cal.weekday_factor(0.8, 0.85)
        if c == PHONE:
            w = w * np.where(cal.month == 0, 1.08, 1.0)
            if storm_idx is not None:
                w[storm_idx] *= 1.9
        profile = HOUR_PROFILE_PHONE if c in (PHONE, INPERSON) else HOUR_PROFILE_DIGITAL
        started[sel] = cal.day_us[_sample_days(rng, len(sel), w)] + _time_of_day(rng, len(sel), profile)
    # every start (those linked to an SR too, a few minutes before its creation) off the gap
    started = _fix_dst_gap(started, year)

    # status updates refer to an SR created earlier
    su_rows = np.flatnonzero(itype == SU)
    k = np.searchsorted(sr["created"], started[su_rows])
    pick = np.floor(k * (1 - rng.random(len(su_rows)) ** 2)).astype(np.int64)
    sr_ref[su_rows] = np.where((k > 0) & (rng.random(len(su_rows)) < 0.92), np.minimum(pick, k - 1), -1)

    order = np.argsort(started, kind="stable")
    started, channel, itype, sr_ref = started[order], channel[order], itype[order], sr_ref[order]
    day_idx = ((started - cal.day_us[0]) // DAY_US).clip(0, cal.n - 1)
    month = cal.month[day_idx]

    # topics of general inquiries
    topic = np.full(n, -1, np.int16)
    gi = itype == GI
    topic_names = [t for t, _ in TOPICS]
    tw = np.array([w for _, w in TOPICS])
    quarter = month // 3
    vht_p = np.zeros(n)
    phone_gi = gi & (channel == PHONE)
    if year == 2024:
        vht_p = np.select([month < 6, month < 9, month == 9], [0.04, 0.02, 0.015], 0.002)
        vht_p = np.where(
            phone_gi, np.select([month < 6, month < 9, month == 9], [0.0, 0.05, 0.03], 0.003), vht_p
        )
    elif year == 2023:
        vht_p = np.where(phone_gi, np.select([month < 3, month < 6], [0.05, 0.11], 0.04), 0.03)
    is_vht = gi & (rng.random(n) < vht_p)
    if year == 2024:
        for q, key_name in ((0, 21950), (1, 21064)):
            rows = np.flatnonzero(phone_gi & (quarter == q))
            want = min(_scaled(key_name, scale), len(rows))
            is_vht[rng.choice(rows, size=want, replace=False)] = True
    rest = np.flatnonzero(gi & ~is_vht)
    tw_rest = tw.copy()
    tw_rest[VHT] = 0
    topic[rest] = rng.choice(len(TOPICS), size=len(rest), p=tw_rest / tw_rest.sum())
    topic[is_vht] = VHT

    # outcomes, queue and handle times
    outcome = np.full(n, -1, np.int8)
    queue = np.zeros(n, np.int64)
    queue_null = np.ones(n, bool)
    handle = np.zeros(n, np.int64)
    handle_null = np.ones(n, bool)
    sl_target, asa, aht = PHONE_TARGETS.get(year, PHONE_TARGETS[2024])
    ph = np.flatnonzero(channel == PHONE)
    ph_month = month[ph]
    p_ab = (0.082 - 0.9 * MONTH_SL_OFFSET[ph_month]).clip(0.02, 0.2)
    if storm_idx is not None:
        p_ab = np.where(day_idx[ph] == storm_idx, 0.14, p_ab)
    abandoned = rng.random(len(ph)) < p_ab
    outcome[ph] = np.where(abandoned, 1, 0)
    short = abandoned & (rng.random(len(ph)) < 0.22)
    q = np.zeros(len(ph), np.int64)
    q[short] = rng.integers(0, 5, int(short.sum()))
    long_ab = abandoned & ~short
    q[long_ab] = 5 + (np.exp(rng.normal(np.log(90), 0.8, int(long_ab.sum())))).astype(np.int64)
    ans = ~abandoned
    ans_rows = np.flatnonzero(ans)
    denom_m = np.bincount(ph_month[~short], minlength=12)
    denom = int(denom_m.sum())
    within_total = min(int(round(sl_target * denom)), len(ans_rows))
    base = (sl_target * denom - (MONTH_SL_OFFSET * denom_m).sum()) / max(denom, 1)
    ans_m = np.bincount(ph_month[ans_rows], minlength=12)
    want_m = np.minimum(_largest_remainder(within_total, (base + MONTH_SL_OFFSET) * denom_m), ans_m)
    # choose which answered calls are within the threshold, month by month
    rkey = rng.random(len(ans_rows))
    if storm_idx is not None:
        rkey = rkey + np.where(day_idx[ph][ans_rows] == storm_idx, 0.6, 0.0)
    o = np.lexsort((rkey, ph_month[ans_rows]))
    starts = np.concatenate([[0], np.cumsum(ans_m)[:-1]])
    rank = np.empty(len(o), np.int64)
    rank[o] = np.arange(len(o)) - np.repeat(starts, ans_m)
    within = rank < want_m[ph_month[ans_rows]]
    qa = np.empty(len(ans_rows), np.int64)
    nw = int(within.sum())
    fast = rng.random(nw) < 0.38
    qa_w = np.where(
        fast,
        rng.integers(0, 12, nw),
        np.minimum(-np.log(1 - rng.random(nw) * (1 - np.exp(-75 / 28.0))) * 28.0, 75).astype(np.int64),
    )
    qa[within] = qa_w
    no = len(ans_rows) - nw
    qa[~within] = 76 + np.exp(rng.normal(np.log(110), 0.75, no)).astype(np.int64)
    target_sum = int(round(asa * len(ans_rows)))
    over_sum_target = target_sum - int(qa[within].sum())
    if no:
        qa[~within] = _exact_sum_adjust(rng, qa[~within], 76, over_sum_target)
    q[ans_rows] = qa
    queue[ph] = q
    queue_null[ph] = False
    h = (30 + np.exp(rng.normal(np.log(235), 0.62, len(ans_rows)))).astype(np.int64)
    h = _exact_sum_adjust(rng, h, 30, int(round(aht * len(ans_rows))))
    ph_h = np.zeros(len(ph), np.int64)
    ph_h[ans_rows] = h
    handle[ph] = ph_h
    handle_null[ph] = abandoned
    # live chat
    lc = np.flatnonzero(channel == CHAT)
    lc_ab = rng.random(len(lc)) < 0.07
    outcome[lc] = np.where(lc_ab, 1, 0)
    handle[lc] = (60 + np.exp(rng.normal(np.log(480), 0.6, len(lc)))).astype(np.int64)
    handle_null[lc] = lc_ab
    transferred = np.zeros(n, bool)
    transferred[ph] = ans & (rng.random(len(ph)) < 0.085)
    transferred[lc] = ~lc_ab & (rng.random(len(lc)) < 0.045)
    # e-mail responses
    responded = np.zeros(n, np.int64)
    responded_null = np.ones(n, bool)
    em = np.flatnonzero(channel == EMAIL)
    delay = np.maximum(np.exp(rng.normal(np.log(14 * 3600), 0.78, len(em))), 300).astype(np.int64) * US
    responded[em] = _fix_dst_gap_any(started[em] + delay, (year, year + 1))
    responded_null[em] = rng.random(len(em)) < 0.03
    language = rng.choice(len(LANGUAGES), size=n, p=LANGUAGE_P / LANGUAGE_P.sum()).astype(np.int8)

    return {
        "n": n,
        "started": started,
        "channel": channel,
        "type": itype,
        "topic": topic,
        "topic_values": topic_names,
        "outcome": outcome,
        "queue": queue,
        "queue_null": queue_null,
        "handle": handle,
        "handle_null": handle_null,
        "transferred": transferred,
        "responded": responded,
        "responded_null": responded_null,
        "sr_ref": sr_ref,
        "language": language,
    }


def _write_interactions(path: Path, year: int, it: dict, sr_n: int) -> int:
    n = it["n"]
    width = max(7, len(str(n)))
    sr_width = max(7, len(str(sr_n)))
    topics = pa.array(it["topic_values"], pa.string())

    def batch(lo: int, hi: int):
        s = slice(lo, hi)
        ref = it["sr_ref"][s]
        return [
            _id_array(f"I{year}-", np.arange(lo + 1, hi + 1), width),
            _ts(it["started"][s]),
            _take(CHANNELS, it["channel"][s]),
            _take(INTERACTION_TYPES, it["type"][s]),
            _take(topics, it["topic"][s]),
            _take(OUTCOMES, it["outcome"][s]),
            pa.array(it["queue"][s].astype(np.int32), mask=it["queue_null"][s]),
            pa.array(it["handle"][s].astype(np.int32), mask=it["handle_null"][s]),
            pa.array(it["transferred"][s]),
            _ts(it["responded"][s], it["responded_null"][s]),
            _id_array(f"SR{year}-", np.maximum(ref, 0) + 1, sr_width, valid=ref >= 0),
            _take(LANGUAGES, it["language"][s]),
        ]

    _write_parquet(path, INTERACTIONS_SCHEMA, n, batch)
    return n


# ------------------------------------------------------------------------------------------
# knowledge-base views
# ------------------------------------------------------------------------------------------
def _write_kb_views(path: Path, year: int, scale: float, seed: int) -> int:
    rng = _rng(seed, year, 3)
    cal = _Calendar(year)
    n_art = len(KB_ARTICLES)
    base = np.array([b for _, b in KB_ARTICLES], float) * scale
    season = np.ones((n_art, cal.n))
    titles = [t for t, _ in KB_ARTICLES]
    for i, t in enumerate(titles):
        if t.startswith("Property Tax"):
            # instalment due dates early in the month, bills in Feb and Jun
            season[i] = 1.0 + 0.6 * np.isin(cal.month, [1, 5]) + 0.4 * (cal.doy % 30 < 5)
        elif t == "Vacant Home Tax":
            season[i] = np.where(cal.month < 6, 1.6, 0.5)
        elif "Snow" in t:
            season[i] = np.exp(1.5 * np.cos(2 * np.pi * (cal.doy - 20) / 365.25))
        elif any(k in t for k in ("Pools", "Heat Relief", "Festivals", "Yard Waste")):
            season[i] = np.exp(1.0 * np.cos(2 * np.pi * (cal.doy - 200) / 365.25))
    weekday = np.where(cal.weekday >= 5, 0.7, 1.0)
    lam = base[:, None] * season * weekday[None, :] * rng.gamma(20.0, 1 / 20.0, (n_art, cal.n))
    views = rng.poisson(lam).astype(np.int64)
    dates = np.tile(cal.day_us // DAY_US, n_art).astype(np.int32)
    art = np.repeat(np.arange(n_art), cal.n)
    ids = [f"KB-{1001 + i:04d}" for i in range(n_art)]

    def batch(lo: int, hi: int):
        s = slice(lo, hi)
        return [
            pa.array(dates[s], pa.date32()),
            _take(ids, art[s]),
            _take(titles, art[s]),
            pa.array(views.reshape(-1)[s], pa.int64()),
        ]

    n = n_art * cal.n
    _write_parquet(path, KB_VIEWS_SCHEMA, n, batch)
    return n


# ------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------
MARKER = """# DEMO DATA - synthetic, not real City of Toronto data

The files in this folder were generated by cx311 (`pipeline/demo.py`) with
seed {seed} and scale {scale} for the years {years}.

They are SYNTHETIC DEMO DATA, calibrated to figures the City of Toronto 311 service has
published (pipeline/data/published_figures.yaml). They are NOT real City data: no row
describes a real contact, caller, service request or address. Do not publish figures from
them as City statistics. Replace them with real extracts to produce a real report.
"""


def generate(
    raw_dir: Path, years: tuple[int, ...] = (2023, 2024), scale: float = 1.0, seed: int = 311
) -> dict:
    """Write the demo extracts for ``years`` under ``raw_dir``; return rows per file."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    ref = _load_reference()
    types = _type_table(ref)
    summary: dict = {"seed": seed, "scale": scale, "files": {}}
    for year in sorted(set(int(y) for y in years)):
        folder = raw_dir / str(year)
        sr = _gen_service_requests(year, scale, seed, ref, types)
        it = _gen_interactions(year, scale, seed, ref, sr)
        files = summary["files"]
        f = folder / f"service_requests_{year}.parquet"
        files[f"{year}/{f.name}"] = _write_service_requests(f, year, sr, ref, types)
        del sr["type"]
        f = folder / f"interactions_{year}.parquet"
        files[f"{year}/{f.name}"] = _write_interactions(f, year, it, sr["n"])
        del it, sr
        f = folder / f"kb_views_{year}.parquet"
        files[f"{year}/{f.name}"] = _write_kb_views(f, year, scale, seed)
    marker = raw_dir / "DEMO_DATA.md"
    tmp = marker.with_name(".DEMO_DATA.md.tmp")
    tmp.write_text(
        MARKER.format(seed=seed, scale=scale, years=", ".join(str(y) for y in sorted(set(years)))),
        encoding="utf-8",
    )
    os.replace(tmp, marker)
    return summary
