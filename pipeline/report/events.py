"""The year's events, from the data: surge days (with their profile through the day) and
general-inquiry surges, as facts and sentences for the annual report and the appendices.

Public interface::

    year_events(metrics) -> dict      # the annual report's context key ``year_events``
    surge_day_facts(day, settings) -> dict   # one surge day of key_metrics.json
    inquiry_surge_facts(surge) -> dict

Nothing is computed here beyond choosing and wording: every figure is in ``key_metrics.json``
(``service_requests.surge_days``, ``general_inquiries.inquiry_surges``).
"""

from __future__ import annotations

from typing import Any

from .formatting import (
    fmt_clock_hour,
    fmt_count,
    fmt_long_date,
    fmt_multiple,
    fmt_quarter,
    fmt_thousands,
    setting_words,
)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _short_date(date: str) -> str:
    """'2024-07-16' → 'July 16, 2024'."""
    return fmt_long_date(date).split(", ", 1)[1]


def surge_day_facts(day: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """One surge day of ``key_metrics.json`` as the reports word it, with the city profile's
    ``settings`` (the surge window, the profile's cut-off hour: key_metrics ``by_4pm``).

    ``sentence``: 'On Tuesday, July 16, 2024, 311 received 3,412 service requests, 4.9 times the
    median of the <surge window> before (700). By <the cut-off hour>, there were 771 requests for Sewer Service
    Line-Blocked and 241 for Catch Basin - Blocked / Flooding.'
    """
    count, median, multiple = day["count"], day.get("baseline_median"), day.get("multiple")
    by_4pm = [{"sr_type": p["sr_type"], "count": p["by_4pm"]} for p in day.get("profile") or []]
    window = setting_words(settings)["surge_window"]
    first = (f"On {fmt_long_date(day['date'])}, 311 received {fmt_thousands(count)} service "
             f"requests")
    if multiple is not None:
        first += f", {fmt_multiple(multiple)} the median of the {window} before ({fmt_count(median)})."
    elif median is not None:
        first += f", when the median of the {window} before was {fmt_count(median)}."
    else:
        first += "."
    parts = [first]
    if by_4pm:
        counts = [f"{fmt_thousands(by_4pm[0]['count'])} requests for {by_4pm[0]['sr_type']}"]
        counts += [f"{fmt_thousands(b['count'])} for {b['sr_type']}" for b in by_4pm[1:]]
        parts.append(f"By {fmt_clock_hour(settings['surge_profile_cutoff_hour'])}, there were {_join(counts)}.")
    return {
        "date": day["date"],
        "date_label": fmt_long_date(day["date"]),
        "short_date": _short_date(day["date"]),
        "count": count,
        "baseline_median": median,
        "multiple": multiple,
        "top_types": list(day.get("top_types") or []),
        "by_4pm": by_4pm,
        "sentence": " ".join(parts),
    }


def inquiry_surge_facts(surge: dict[str, Any]) -> dict[str, Any]:
    """One inquiry surge of ``key_metrics.json`` as the reports word it.

    ``sentence``: 'General inquiries about Vacant Home Tax surged in Q1 2024: 24,323 (21,950 by
    phone), 3.0 times the median of the 4 quarters before (8,189).'
    """
    multiple = surge.get("multiple")
    sentence = (f"General inquiries about {surge['topic']} surged in {fmt_quarter(surge['quarter'])}: "
                f"{fmt_thousands(surge['count'])} ({fmt_thousands(surge['phone_count'])} by phone)")
    if multiple is not None:
        sentence += (f", {fmt_multiple(multiple)} the median of the 4 quarters before "
                     f"({fmt_count(surge['baseline_median'])}).")
    else:
        sentence += ", after 4 quarters with a median of 0."
    return {
        "topic": surge["topic"],
        "quarter": surge["quarter"],
        "quarter_label": fmt_quarter(surge["quarter"]),
        "count": surge["count"],
        "phone_count": surge["phone_count"],
        "baseline_median": surge.get("baseline_median"),
        "multiple": multiple,
        "sentence": sentence,
    }


def largest_surge_day(metrics: dict) -> dict[str, Any] | None:
    """The year's surge day with the most SRs (the earliest of equals), or None."""
    days = (metrics.get("service_requests") or {}).get("surge_days") or []
    return max(days, key=lambda d: d["count"]) if days else None  # max keeps the first of equals


def year_events(metrics: dict) -> dict[str, Any]:
    """The annual report's "year's events" facts (context key ``year_events``):

    - ``surge_days``: every surge day in date order (``surge_day_facts``: date_label, count,
      multiple, by_4pm [{sr_type, count}], sentence, …);
    - ``largest_surge_day``: the one with the most SRs, or None;
    - ``inquiry_surges``: every topic-quarter surge, larger first (``inquiry_surge_facts``);
    - ``sentences``: the surge days' sentences, then the inquiry surges' (empty: nothing to say);
    - ``surge_days_known`` / ``inquiry_surges_known``: False when the year has no SR data / no
      general-inquiry data (say "not available", not "none").
    """
    srs = metrics.get("service_requests")
    inquiries = metrics.get("general_inquiries")
    days = [surge_day_facts(d, metrics["settings"]) for d in (srs or {}).get("surge_days") or []]
    largest = largest_surge_day(metrics)
    surges = [inquiry_surge_facts(s) for s in (inquiries or {}).get("inquiry_surges") or []]
    return {
        "surge_days": days,
        "largest_surge_day": next((d for d in days if largest and d["date"] == largest["date"]), None),
        "inquiry_surges": surges,
        "sentences": [d["sentence"] for d in days] + [s["sentence"] for s in surges],
        "surge_days_known": srs is not None,
        "inquiry_surges_known": inquiries is not None,
    }
