"""Reference data the demo draws from: published figures, City seeds and the name tables.

``load_reference()`` reads the published figures (``pipeline/data/published_figures.yaml``) and
the seeds (wards, BIAs, the SR type catalogue); ``type_table()`` turns them into the list of
service-request types the generator uses. The tables below name what the generator writes:
general-inquiry topics, knowledge-base articles, languages and each ward's geography.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml

from ..paths import DATA_DIR, SEEDS_DIR

# Languages of service (ISO 639-1 codes) and their shares of the interactions with a recorded
# language: illustrative, not published. Mostly English, then the languages most often
# requested through the City's interpretation service: Chinese (Mandarin and Cantonese, one
# code), Spanish, Portuguese, Punjabi, Tamil, Italian, Farsi, Korean, Tagalog, Arabic, French...
LANGUAGES = ("en", "zh", "es", "pt", "pa", "ta", "it", "fa", "ko", "tl", "ar", "fr", "ru", "vi",
             "ur", "so", "hu", "pl", "gu")
LANGUAGE_P = np.array([0.955, 0.0105, 0.0045, 0.0040, 0.0035, 0.0033, 0.0030, 0.0025, 0.0022,
                       0.0020, 0.0018, 0.0016, 0.0015, 0.0013, 0.0010, 0.0008, 0.0005, 0.0005, 0.0005])

# general-inquiry topics and their weights (Vacant Home Tax is calibrated separately)
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
VHT = [name for name, _ in TOPICS].index("Vacant Home Tax")

# knowledge-base articles: (title, views per day at scale 1)
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
# the SR types launched in July 2024: (division, section, SRs in 2024)
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

# The catalogue (2022 – Oct 2026) names divisions of both sides of the City's reorganisation of
# 1 January 2025, when Parks, Forestry & Recreation became Parks and Recreation and its Urban
# Forestry branch moved to the new Environment, Climate & Forestry. The demo writes the
# division in force in the year of the SR (``division_in``).
DIVISIONS_BEFORE_2025 = {
    "Parks and Recreation": "Parks, Forestry & Recreation",
    "Environment, Climate & Forestry": "Parks, Forestry & Recreation",
}


def division_in(division: str, year: int) -> str:
    """The name of a catalogue division in ``year``: 'Parks and Recreation' was 'Parks,
    Forestry & Recreation' until 2024."""
    return DIVISIONS_BEFORE_2025.get(division, division) if year < 2025 else division


# seasonal groups of SR types (the day weights of service_requests.py)
DEFAULT_GROUP, WILDLIFE_GROUP, WINTER_GROUP, SUMMER_GROUP, NEW_TYPE_GROUP = range(5)


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_reference() -> dict:
    """Published figures, wards, BIA names and the SR type catalogue (volume per type)."""
    figures = yaml.safe_load((DATA_DIR / "published_figures.yaml").read_text(encoding="utf-8"))
    wards = _read_csv(DATA_DIR / "toronto_wards_population.csv")  # the shipped profile's wards
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


def _published_types(figures: dict) -> list[str]:
    """The SR types named in the published top-N tables (2024 first, then 2023)."""
    published: list[str] = []
    for year in ("2024", "2023"):
        for item in figures.get(year, {}).get("top_service_requests", []):
            if item["sr_type"] not in published:
                published.append(item["sr_type"])
    return published


def _type_rows(figures: dict, catalogue: dict) -> list[tuple[str, str, str, float, str]]:
    """(name, division, section, weight, kind) of every SR type: published, new, catalogue."""
    published = _published_types(figures)
    new_types = list(figures.get("2024", {}).get("new_sr_types_2024", []))
    excluded = set(published) | set(new_types)
    for name in published:
        excluded.update(CATALOGUE_DUPLICATES.get(name, ()))
    rows = []
    for name in published:
        home = catalogue.get(name) or catalogue.get(DISPLAY_NAME_HOME.get(name, ""), None)
        div, sec, vol = home if home else ("Municipal Licensing & Standards", "Investigation Services", 1000)
        rows.append((name, div, sec, float(vol), "published"))
    for name in new_types:
        div, sec, _ = NEW_TYPE_HOME.get(name, ("Municipal Licensing & Standards", "Bylaw Enforcement", 200))
        rows.append((name, div, sec, 0.0, "new"))
    for name, (div, sec, vol) in catalogue.items():
        if name not in excluded and vol > 0:
            rows.append((name, div, sec, float(vol), "catalogue"))
    return rows


def _season_group(name: str, kind: str) -> int:
    low = name.lower()
    if kind == "new":
        return NEW_TYPE_GROUP
    if "Wildlife" in name:
        return WILDLIFE_GROUP
    winter = ("Snow" in name or "Ice" in name or name == "Adequate Heat") or any(
        w in low for w in ("plow", "plough", "salting", "winter")
    )
    if winter:
        return WINTER_GROUP
    if "Pruning" in name or "grass" in low or "weeds" in low or "Amplified" in name or "Pool" in name:
        return SUMMER_GROUP
    return DEFAULT_GROUP


def type_table(ref: dict) -> dict:
    """Unified list of SR types: published names, new 2024 types, then the catalogue pool."""
    rows = _type_rows(ref["figures"], ref["catalogue"])
    names = [r[0] for r in rows]
    kinds = [r[4] for r in rows]
    return {
        "names": names,
        "division": [r[1] for r in rows],
        "section": [r[2] for r in rows],
        "weight": np.array([r[3] for r in rows]),
        "kind": kinds,
        "group": np.array([_season_group(n, k) for n, k in zip(names, kinds, strict=True)], np.int8),
        "index": {n: i for i, n in enumerate(names)},
    }
