"""How figures read in every document: numbers, percents, durations, months, labels.

Imports nothing of the package: one place decides that 0.815 reads "82%" and a wait of 292 s
"0:04:52", for the reports, the BIA reports, their e-mails and the narrative.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MINUS = "\u2212"
NOT_AVAILABLE = "not available in this extract"
NA = "n/a"

CHANNEL_LABELS = {
    "phone": "Phone",
    "email": "E-mail",
    "live_chat": "Live chat",
    "web": "Web",
    "mobile_app": "Mobile app",
    "social": "Social media",
    "in_person": "In person",
    "other": "Other",
}
TYPE_LABELS = {
    "general_inquiry": "General inquiries",
    "service_request": "Service requests",
    "status_update": "Status updates",
}
# languages of service as the extracts record them (ISO 639 codes, lower case) → English names;
# a value not listed here is shown as delivered
LANGUAGE_NAMES = {
    "am": "Amharic", "ar": "Arabic", "bn": "Bengali", "cmn": "Mandarin", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "fa": "Farsi", "fr": "French",
    "gu": "Gujarati", "hi": "Hindi", "hu": "Hungarian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "pa": "Punjabi", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "so": "Somali", "sr": "Serbian", "ta": "Tamil", "ti": "Tigrinya",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "yue": "Cantonese", "zh": "Chinese",
}  # fmt: skip
# the encodings the loader reads a CSV file with (raw.load_audit.encoding) → how the data
# notes name them ("read as UTF-8")
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark",
    "cp1252": "Windows-1252",
}
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]


def _dec(value: Any) -> Decimal:
    """Exact decimal of a number as written (repr), so 0.815 stays 0.815, not 0.81499…"""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


def _round_int(value: Any) -> int:
    """Round half away from zero to an integer."""
    return int(_dec(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fmt_thousands(value: Any) -> str:
    """1290000 → '1,290,000'; floats are rounded half away from zero; None → 'n/a'."""
    if value is None:
        return NA
    n = _round_int(value)
    s = f"{abs(n):,}"
    return f"{MINUS}{s}" if n < 0 else s


def fmt_decimal(value: Any, places: int = 1) -> str:
    """Fixed decimals with thousands separators, half away from zero; None → 'n/a'."""
    if value is None:
        return NA
    q = _dec(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    s = f"{abs(q):,.{places}f}"
    return f"{MINUS}{s}" if q < 0 else s


def _percent(value: Any, places: int) -> Decimal:
    """Fraction → percent rounded half away from zero to ``places`` decimals."""
    return (_dec(value) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_pct(value: Any, places: int = 0) -> str:
    """Fraction → whole percent, half away from zero: 0.815 → '82%', 0.8149 → '81%'."""
    if value is None:
        return NA
    q = _percent(value, places)
    if q == 0:
        q = abs(q)
    s = f"{abs(q):,.{places}f}%"
    return f"{MINUS}{s}" if q < 0 else s


def fmt_signed_pct(value: Any, places: int = 0) -> str:
    """Change as a signed percent with a real minus sign: −0.0493 → '−5%', 0.1 → '+10%'."""
    if value is None:
        return NA
    q = _percent(value, places)
    s = f"{abs(q):,.{places}f}%"
    if q == 0:
        return s
    return f"+{s}" if q > 0 else f"{MINUS}{s}"


def fmt_hms(value: Any) -> str:
    """Seconds → H:MM:SS (47 → '0:00:47', 292 → '0:04:52'); None → 'n/a'."""
    if value is None:
        return NA
    total = _round_int(value)
    sign = MINUS if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"


def fmt_month(value: str) -> str:
    """'2024-07' → 'July 2024'."""
    year, month = str(value).split("-")[:2]
    return f"{MONTHS[int(month) - 1]} {year}"


def fmt_long_date(value: str) -> str:
    """'2024-07-16' → 'Tuesday, July 16, 2024'."""
    d = dt.date.fromisoformat(str(value)[:10])
    return f"{d.strftime('%A')}, {MONTHS[d.month - 1]} {d.day}, {d.year}"


def fmt_clock_hour(hour: int) -> str:
    """A local clock hour 1–24 as the reports say it: 1 → '1 a.m.', 12 → 'noon', an afternoon
    hour with 'p.m.', 24 → 'midnight'."""
    hour = int(hour)
    if hour in (0, 24):
        return "midnight"
    if hour == 12:
        return "noon"
    return f"{hour} a.m." if hour < 12 else f"{hour - 12} p.m."


_NUMBER_WORDS = {2: "twice", 3: "three times", 4: "four times", 5: "five times"}
_PLACE_PREFIX = re.compile(r"^(?:City|Town|Township|Municipality|Region|County|District|Village) of (?:the )?")


def fmt_times(factor: Any) -> str:
    """A multiple in words, as a rule states it: 2 → 'twice', 3 → 'three times', 2.5 → '2.5 times'."""
    value = _dec(factor)
    if value == value.to_integral_value() and int(value) in _NUMBER_WORDS:
        return _NUMBER_WORDS[int(value)]
    return f"{fmt_count(value)} times"


def place_name(city: str) -> str:
    """The place a government governs, for 'in Toronto' and 'Toronto's wards': 'City of
    Toronto' → 'Toronto', 'Town of Oakville' → 'Oakville'; a name without such a prefix as it is."""
    return _PLACE_PREFIX.sub("", city.strip())


def setting_words(settings: dict[str, Any]) -> dict[str, str]:
    """The phrases the documents state a setting in (the profile's standards and the analysis
    parameters), so a template never writes a threshold itself."""
    s = settings
    return {
        "city": s["city"], "service": s["service"], "division": s["division"], "place": place_name(s["city"]),
        "author": f"{s['city']} – {s['division']}",
        "area": f"{s['city']} 311",
        "phone_threshold": f"{fmt_thousands(s['phone_service_level_seconds'])} seconds",
        "short_abandon": f"{fmt_thousands(s['short_abandon_seconds'])} seconds",
        "email_standard": f"{fmt_thousands(s['email_acknowledgement_hours'])} hours",
        "surge_rule": (f"a day with at least {fmt_thousands(s['surge_floor'])} service requests and at least "
                       f"{fmt_times(s['surge_factor'])} the median of the {fmt_thousands(s['surge_window_days'])} "
                       "days before it"),
        "surge_window": f"{fmt_thousands(s['surge_window_days'])} days",
        "inquiry_surge_rule": (f"at least {fmt_times(s['surge_factor'])} the median of the topic's 4 quarters "
                               f"before and at least {fmt_thousands(s['inquiry_surge_floor'])} general inquiries"),
        "cutoff": fmt_clock_hour(s["surge_profile_cutoff_hour"]),
        "per_residents": fmt_thousands(s["per_residents"]),
    }


def fmt_quarter(value: str) -> str:
    """'2024-Q1' → 'Q1 2024'."""
    year, quarter = str(value).split("-")
    return f"{quarter} {year}"


def fmt_count(value: Any) -> str:
    """A count that may be a median halfway between two counts: 8189.0 → '8,189',
    13107.5 → '13,107.5'; None → 'n/a'."""
    if value is None:
        return NA
    return fmt_thousands(value) if _dec(value) == _dec(value).to_integral_value() else fmt_decimal(value, 1)


def fmt_multiple(value: Any) -> str:
    """How many times a baseline: 4.874 → '4.9 times'; None → 'n/a'."""
    return NA if value is None else f"{fmt_decimal(value, 1)} times"


def fmt_duration_words(value: Any) -> str:
    """Seconds → plain words for screen text: 61 → '1 minute 1 second'."""
    if value is None:
        return NOT_AVAILABLE
    total = _round_int(value)
    minutes, seconds = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if seconds or not parts:
        parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
    return " ".join(parts)


def fmt_language(value: str) -> str:
    """A language of service by name: 'zh' → 'Chinese'; an unlisted value as delivered."""
    return LANGUAGE_NAMES.get(str(value).strip().lower(), str(value))


def fmt_encoding(value: str | None) -> str | None:
    """The encoding a file was read with, by name: 'utf-8-sig' → 'UTF-8 with a byte-order mark';
    None (a Parquet file has no encoding) → None; an unlisted value as recorded."""
    return None if value is None else ENCODING_NAMES.get(str(value), str(value))


def fmt_year_over_year(current: Any, prior: Any, change: Any, when: str) -> str | None:
    """A count against the same period a year earlier, in words, for running text.

    ``when`` names the earlier period as it reads after "than the 61": 'in July 2023' or 'a
    year earlier'. ``change`` is (current − prior) / prior as the marts compute it.

    - 45 vs 61 (change −0.262) → '26% fewer than the 61 in July 2023'
    - 3 vs 2 (change 0.5) → '50% more than the 2 a year earlier'
    - equal counts (0 and 0 included) → 'the same as in July 2023'
    - 5 vs 0 → 'up from 0 in July 2023' (no percent of nothing; ``change`` is then None)
    - no prior figure, or no change for a non-zero prior → None: say nothing
    """
    if current is None or prior is None:
        return None
    if current == prior:
        return f"the same as {when}"
    if prior == 0:
        return f"up from {fmt_thousands(prior)} {when}"
    if change is None:
        return None
    direction = "more" if change > 0 else "fewer"
    return f"{fmt_pct(abs(change))} {direction} than the {fmt_thousands(prior)} {when}"
