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
    """Fraction → whole percent, half away from zero: 0.815 → '82%', 0.8149 → '81%'. A share
    above 0 that rounds to 0 reads '<1%' ('<0.1%' to one decimal), never '0%'."""
    if value is None:
        return NA
    q = _percent(value, places)
    if q == 0:
        if _dec(value) > 0:
            return f"<{Decimal(1).scaleb(-places)}%"
        q = abs(q)
    s = f"{abs(q):,.{places}f}%"
    return f"{MINUS}{s}" if q < 0 else s


def _pct_words(value: Any) -> str:
    """A positive percent in running text: 0.05 → '5%', 0.003 → 'less than 1%'."""
    shown = fmt_pct(value)
    return "less than 1%" if shown.startswith("<") else shown


def rounds_to_zero(value: Any, places: int = 0) -> bool:
    """True when a fraction prints as 0 percent at ``places`` decimals (a change of 0.3%)."""
    return _percent(value, places) == 0


def shares_may_not_total(shares: list[Any], places: int = 0) -> bool:
    """True when shares of one whole, as printed (each rounded to ``places``), do not add up to
    100%: the document then says they "may not total 100% due to rounding"."""
    printed = [_percent(v, places) for v in shares if v is not None]
    return bool(printed) and sum(printed) != 100


# How percentages are rounded, in the words every document states it; the exceptions are named
# where they apply (``ROUNDING_EXCEPTIONS``).
ROUNDING_RULE = ("Percentages are rounded to whole percent, halves away from zero; a share above "
                 "0 that rounds to 0 is shown as “<1%”.")
ROUNDING_EXCEPTIONS = {
    "near_100": ("The share of answered calls and chats handled without transfer and the shares of "
                 "languages of service are shown to one decimal (“<0.1%” for a share that rounds to "
                 "0): they lie close to 100% or to 0%."),
    "bia_share_of_city": "A BIA's share of all city requests is shown to two decimals.",
}
ROUNDING_TOTAL = "Shares may not total 100% due to rounding."


def fmt_change(change: Any, prior_label: Any, current: Any = None, prior: Any = None,
               form: str = "verb") -> str:
    """A change against an earlier period in words, as the City writes it (never a signed number
    in prose).

    - with the counts (``form`` 'verb'): 'decreased by 5% to 463,000, compared to 487,000 in 2023';
      equal counts: 'was unchanged at 7, as in 2023'
    - without them: 'decreased by 5% from 2023'; a change under half a percent: 'increased by
      less than 1% from 2023'; none: 'was unchanged from 2023'
    - ``form`` 'noun': 'a decrease of 5% from 2023', 'an increase of less than 1% from 2023',
      'no change from 2023'
    - no change known: 'n/a'
    """
    if change is None:
        return NA
    d = _dec(change)
    counts = current is not None and prior is not None
    if d == 0:
        if form == "noun":
            return f"no change from {prior_label}"
        return (f"was unchanged at {fmt_thousands(current)}, as in {prior_label}" if counts
                else f"was unchanged from {prior_label}")
    size = _pct_words(abs(d))
    if form == "noun":
        return f"{'an increase' if d > 0 else 'a decrease'} of {size} from {prior_label}"
    verb = "increased" if d > 0 else "decreased"
    if counts:
        return f"{verb} by {size} to {fmt_thousands(current)}, compared to {fmt_thousands(prior)} in {prior_label}"
    return f"{verb} by {size} from {prior_label}"


def join_words(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def leaders(items: list[Any], value: Any, shown: Any, *, lowest: bool = False) -> list[Any]:
    """The items with the highest (``lowest``: the lowest) value *as printed*, in their order:
    one item when its printed value stands alone, several when printed values tie. ``value``
    gives an item's number, ``shown`` the text the document prints for it. Never name one item
    as highest or lowest when the reader sees others with the same figure."""
    valued = [i for i in items if value(i) is not None]
    if not valued:
        return []
    pick = min if lowest else max
    top = shown(pick(valued, key=value))
    return [i for i in valued if shown(i) == top]


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


_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}


def fmt_months(values: list[str], most: int = 3) -> str:
    """Months in running text: ['2024-07'] → 'July 2024'; ['2024-01', '2024-07'] → 'January
    and July 2024'; more than ``most`` months → 'six months' (a table gives them)."""
    if len(values) > most:
        return f"{_COUNT_WORDS.get(len(values), str(len(values)))} months"
    years = {str(v)[:4] for v in values}
    if len(years) == 1:
        return join_words([MONTHS[int(str(v)[5:7]) - 1] for v in values]) + f" {years.pop()}"
    return join_words([fmt_month(v) for v in values])


def fmt_short_date(value: str) -> str:
    """'2024-08-30' → 'August 30, 2024'."""
    d = dt.date.fromisoformat(str(value)[:10])
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


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
    shown = fmt_thousands(value) if value == value.to_integral_value() else fmt_decimal(value, 1)
    return f"{shown} times"


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
    """A count, or a median of counts, read as a count: 8189.0 → '8,189', 13107.5 → '13,108'
    (half away from zero, as every figure); None → 'n/a'."""
    return fmt_thousands(value)


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
    return f"{_pct_words(abs(change))} {direction} than the {fmt_thousands(prior)} {when}"
