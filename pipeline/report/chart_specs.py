"""The key-metric charts: what Appendix A draws and Appendix B states, from the same rows.

Public interface::

    key_metric_specs(metrics, with_svg=True) -> list[ChartSpec]
    chart_catalogue(metrics) -> Catalogue             # the specs, each with its drawing
    draw_charts(catalogue, ids=None) -> list[ChartSpec]  # draw all, or some first

Each chart has one builder (``BUILDERS``, in document order). A builder turns
``key_metrics.json`` into a ``ChartSpec`` (table rows, summary sentence, alt text) and, when
there is something to draw, a function that draws it with ``pipeline.report.charts``.
Without ``with_svg`` nothing is drawn and Altair/vl-convert are not imported (Appendix B's
PDF starts before any chart is drawn).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from markupsafe import Markup

from .events import inquiry_surge_facts, largest_surge_day, surge_day_facts
from .formatting import (
    NA,
    ROUNDING_TOTAL,
    fmt_clock_hour,
    fmt_count,
    fmt_decimal,
    fmt_duration_words,
    fmt_hms,
    fmt_language,
    fmt_month,
    fmt_months,
    fmt_pct,
    fmt_quarter,
    fmt_signed_pct,
    fmt_thousands,
    join_words,
    leaders,
    rounds_to_zero,
    setting_words,
    shares_may_not_total,
)
from .rows import channel_rows, prior_year, type_rows, ward_rows

GROUP_HEADINGS = {
    "interaction-metrics": "Interactions",
    "phone-metrics": "Phone",
    "transfer-language-metrics": "Transfers and languages",
    "service-request-metrics": "Service requests",
    "knowledge-base-metrics": "Knowledge base",
}
# The key_metrics section each chart's rows come from: a chart of a section the extracts do not
# hold is left out, and said once for all (pipeline/report/sources.py not_held).
SECTIONS = {
    "channels": "interactions", "channel-change": "interactions", "type-mix": "interactions",
    "inquiry-surges": "general_inquiries", "service-level": "phone", "asa-monthly": "phone",
    "asa-aht": "phone", "transfers-monthly": "transfers", "languages": "languages",
    "top-types": "service_requests", "divisions": "service_requests", "ward-map": "service_requests",
    "surge-profile": "service_requests", "kb-articles": "knowledge_base",
}


@dataclass
class ChartSpec:
    """One key-metrics chart: what Appendix A draws and Appendix B states, from the same rows.

    ``rows`` hold the cells as displayed (formatted strings); the first cell of a row is its
    row header. ``summary`` is one sentence stating the point of the chart (generated from the
    data); ``alt`` is the chart's alt text; ``svg`` is None when there is nothing to draw.
    """

    id: str
    group: str
    title: str
    caption: str
    columns: list[tuple[str, bool]]
    rows: list[list[str]]
    summary: str
    unavailable: str
    note: str | None = None
    alt: str = ""
    svg: Markup | None = field(default=None, repr=False)

    @property
    def section(self) -> str:
        """The key_metrics section its rows come from (``SECTIONS``)."""
        return SECTIONS[self.id]


Draw = Callable[[ModuleType], str | None]  # charts module → SVG markup or None
Built = tuple[ChartSpec, Draw | None]
Catalogue = list[Built]  # (spec, its drawing); the drawing is None once drawn


def _min_sec(seconds: Any) -> str:
    """Short chart label for a duration under an hour: 47 → '0:47', 292 → '4:52'."""
    hms = fmt_hms(seconds)
    return hms[2:].lstrip("0").rjust(4, "0") if hms.startswith("0:") else hms


def _svg_title(svg: str | None) -> str:
    if not svg:
        return ""
    m = re.search(r"<title[^>]*>(.*?)</title>", svg, flags=re.S)
    return html_lib.unescape(m.group(1)) if m else ""


def _listing(items: list[dict], label: str, value: Callable[[dict], str]) -> str:
    """'A 1,000; B 900' for alt texts."""
    return "; ".join(f"{item[label]} {value(item)}" for item in items)


def _no_prior_note(channels: list[dict], prior: int) -> str | None:
    """The footnote for an 'n/a' change, only when a channel's change is n/a."""
    return f"n/a: no data for that channel in {prior}." if any(c["change"] is None for c in channels) else None


def _each(items: list) -> str:
    """' each' after a figure that several named items share."""
    return " each" if len(items) > 1 else ""


def _notes(*notes: str | None) -> str | None:
    return " ".join(n for n in notes if n) or None


def _total_note(shares: list[Any]) -> str | None:
    """'Shares may not total 100% due to rounding.' under a table of shares of one whole whose
    printed shares do not add up to 100%."""
    return ROUNDING_TOTAL if shares_may_not_total(shares) else None


# --------------------------------------------------------------------------- interactions


def _channels(metrics: dict) -> Built:
    year, prior = int(metrics["year"]), prior_year(metrics)
    total = (metrics.get("interactions") or {}).get("total")
    ch = channel_rows(metrics)
    spec = ChartSpec(
        "channels", "interaction-metrics", "Interactions by channel",
        f"Interactions by channel, {year}, with change from {prior}",
        [("Channel", False), ("Interactions", True), ("Share", True), (f"Change vs {prior}", True)],
        [[c["label"], fmt_thousands(c["count"]), fmt_pct(c["share"]), fmt_signed_pct(c["change"])]
         for c in ch],
        "", "Interactions by channel",
        note=_notes(_no_prior_note(ch, prior), _total_note([c["share"] for c in ch])))
    if not ch:
        return spec, None
    tops = leaders(ch, lambda c: c["count"], lambda c: fmt_thousands(c["count"]))
    top = tops[0]
    spec.summary = (f"{join_words([c['label'] for c in tops])} carried the most interactions in {year}: "
                    f"{fmt_thousands(top['count'])}{_each(tops)} of {fmt_thousands(total)} "
                    f"({fmt_pct(top['share'])}{_each(tops)}).")
    spec.alt = (f"Bar chart of interactions by channel in {year}. {spec.summary} "
                + _listing(ch, "label", lambda c: fmt_thousands(c["count"])) + ".")
    return spec, lambda charts: charts.hbar_svg(
        "chart-channels",
        [(c["label"], c["count"], f"{fmt_thousands(c['count'])} ({fmt_pct(c['share'])})") for c in ch],
        spec.alt, x_title="Interactions")


def _channel_change_summary(changes: list[dict], prior: int) -> str:
    """'Compared with 2023, mobile app grew the most, by 22%, and social media fell the most, by
    10%.' (channels whose printed changes tie are named together)."""
    ups = leaders(changes, lambda c: c["change"], lambda c: fmt_signed_pct(c["change"]))
    downs = leaders(changes, lambda c: c["change"], lambda c: fmt_signed_pct(c["change"]), lowest=True)
    parts = []
    if ups[0]["change"] > 0 and not rounds_to_zero(ups[0]["change"]):
        names = join_words([c["label"].lower() for c in ups])  # mid-sentence
        parts.append(f"{names} grew the most, by {fmt_pct(ups[0]['change'])}{_each(ups)}")
    if downs[0]["change"] < 0 and not rounds_to_zero(downs[0]["change"]):
        names = join_words([c["label"].lower() for c in downs])
        parts.append(f"{names} fell the most, by {fmt_pct(-downs[0]['change'])}{_each(downs)}")
    if not parts:
        return f"No channel changed compared with {prior}."
    return f"Compared with {prior}, " + ", and ".join(parts) + "."


def _channel_change(metrics: dict) -> Built:
    year, prior = int(metrics["year"]), prior_year(metrics)
    ch = channel_rows(metrics)
    changes = [c for c in ch if c["change"] is not None]
    spec = ChartSpec(
        "channel-change", "interaction-metrics", f"Change in interactions by channel since {prior}",
        f"Change in interactions by channel, {prior} to {year}",
        [("Channel", False), (f"Change vs {prior}", True)],
        [[c["label"], fmt_signed_pct(c["change"])] for c in ch],
        "", "Change by channel", note=_no_prior_note(ch, prior))
    if not changes:
        if ch:
            spec.summary = f"There is no {prior} data to compare the channels with."
        return spec, None
    spec.summary = _channel_change_summary(changes, prior)
    spec.alt = (f"Bar chart of the change in interactions by channel from {prior} to {year}; "
                f"increases right of zero, decreases left. {spec.summary}")
    return spec, lambda charts: charts.diverging_svg(
        "chart-channel-change", [(c["label"], c["change"], fmt_signed_pct(c["change"])) for c in ch],
        spec.alt, x_title=f"Change vs {prior}")


def _type_mix(metrics: dict) -> Built:
    year = int(metrics["year"])
    types = type_rows(metrics)
    spec = ChartSpec(
        "type-mix", "interaction-metrics", "Interactions by type", f"Interactions by type, {year}",
        [("Interaction type", False), ("Interactions", True), ("Share of all interactions", True)],
        [[t["label"], fmt_thousands(t["count"]), fmt_pct(t["share"])] for t in types],
        "", "Interactions by type", note=_total_note([t["share"] for t in types]))
    if not types:
        return spec, None
    bigs = leaders(types, lambda t: t["count"], lambda t: fmt_thousands(t["count"]))
    big = bigs[0]
    spec.summary = (f"{join_words([t['label'] if i == 0 else t['label'].lower() for i, t in enumerate(bigs)])} "
                    f"were the largest share of interactions in {year}: "
                    f"{fmt_pct(big['share'])}{_each(bigs)} ({fmt_thousands(big['count'])}{_each(bigs)}).")
    spec.alt = (f"Bar chart of interactions by type in {year}. {spec.summary} "
                + _listing(types, "label", lambda t: fmt_pct(t["share"])) + ".")
    return spec, lambda charts: charts.hbar_svg(
        "chart-type-mix",
        [(t["label"], t["count"], f"{fmt_thousands(t['count'])} ({fmt_pct(t['share'])})") for t in types],
        spec.alt, x_title="Interactions")


def _inquiry_surges(metrics: dict) -> Built:
    year = int(metrics["year"])
    inquiries = metrics.get("general_inquiries") or {}
    surges = inquiries.get("inquiry_surges") or []
    quarterly = inquiries.get("quarterly") or []
    shown = "each topic that surged" if surges else "the most frequent topic"
    spec = ChartSpec(
        "inquiry-surges", "interaction-metrics", "General-inquiry surges by quarter",
        f"General inquiries by quarter, {year - 1}–{year}, of {shown} in {year}",
        [("Quarter", False), ("Topic", False), ("General inquiries", True), ("By phone", True),
         ("Median of the 4 quarters before", True), ("Surge", False)],
        [[fmt_quarter(q["quarter"]), t["topic"], fmt_thousands(q["count"]), fmt_thousands(q["phone_count"]),
          fmt_count(q["baseline_median"]), ("Yes" if q["surge"] else "No") if q["evaluated"] else NA]
         for t in quarterly for q in t["quarters"]],
        "", "General-inquiry surges",
        note=f"A surge: {setting_words(metrics['settings'])['inquiry_surge_rule']}. "
             "n/a: fewer than 4 quarters of data before it.")
    if not quarterly:
        return spec, None
    this_year = [q for t in quarterly for q in t["quarters"] if q["quarter"].startswith(f"{year}-")]
    if surges:
        spec.summary = inquiry_surge_facts(surges[0])["sentence"]
        if len(surges) > 1:
            spec.summary += (f" {'Another surge' if len(surges) == 2 else 'Other surges'} in {year}: "
                             + "; ".join(f"{x['topic']} in {fmt_quarter(x['quarter'])} "
                                         f"({fmt_thousands(x['count'])})" for x in surges[1:]) + ".")
    elif not any(q["evaluated"] for q in this_year):
        spec.summary = (f"No quarter of {year} could be checked for surges: a quarter needs 4 "
                        f"quarters of interaction data before it.")
    else:
        top = quarterly[0]
        peaks = leaders([q for q in top["quarters"] if q["quarter"].startswith(f"{year}-")],
                        lambda q: q["count"], lambda q: fmt_thousands(q["count"]))
        spec.summary = f"No general-inquiry topic surged in {year}."
        if peaks:
            spec.summary = (f"No general-inquiry topic surged in {year}; the most frequent topic, "
                            f"{top['topic']}, peaked in {join_words([fmt_quarter(q['quarter']) for q in peaks])} "
                            f"({fmt_thousands(peaks[0]['count'])}{_each(peaks)}).")
    spec.alt = (f"Column charts of general inquiries by quarter, one per topic, surge quarters "
                f"marked. {spec.summary} "
                + " ".join(f"{t['topic']}: " + "; ".join(
                    f"{fmt_quarter(q['quarter'])} {fmt_thousands(q['count'])}"
                    + (" (surge)" if q["surge"] else "") for q in t["quarters"]) + "."
                    for t in quarterly))
    return spec, lambda charts: charts.quarterly_bars_svg(
        "chart-inquiry-surges",
        [(t["topic"], [(fmt_quarter(q["quarter"]), q["count"], bool(q["surge"]), fmt_thousands(q["count"]))
                       for q in t["quarters"]]) for t in quarterly],
        spec.alt)


# --------------------------------------------------------------------------- phone


def _target_met(met: bool | None) -> str:
    if met is None:
        return NA
    return "Yes" if met else "No"


def _service_level(metrics: dict) -> Built:
    year = int(metrics["year"])
    phone = metrics.get("phone") or {}
    monthly = phone.get("monthly") or []
    target = phone.get("target")
    spec = ChartSpec(
        "service-level", "phone-metrics", "Phone service level by month",
        f"Phone service level by month, {year}, against the {fmt_pct(target)} target",
        [("Month", False), ("Service level", True), ("Target met", False), ("Calls offered", True)],
        [[fmt_month(r["month"]), fmt_pct(r["service_level"]), _target_met(r["target_met"]),
          fmt_thousands(r["offered"])] for r in monthly],
        "", "Monthly service levels",
        note=f"Service level: calls answered within {setting_words(metrics['settings'])['phone_threshold']}.")
    valid = [r for r in monthly if r["service_level"] is not None]
    if not valid or target is None:
        return spec, None
    met = [r for r in valid if r["target_met"]]
    lows = leaders(valid, lambda r: r["service_level"], lambda r: fmt_pct(r["service_level"]), lowest=True)
    spec.summary = (f"The phone service level met the {fmt_pct(target)} target in {len(met)} "
                    f"of {len(valid)} months; it was lowest in {fmt_months([r['month'] for r in lows])} "
                    f"({fmt_pct(lows[0]['service_level'])}{_each(lows)}).")

    def draw(charts: ModuleType) -> str | None:
        svg = charts.monthly_service_level_svg(monthly, target, "chart-monthly-sl",
                                               setting_words(metrics["settings"])["phone_threshold"])
        spec.alt = _svg_title(svg)  # the chart writes its own alt text
        return svg

    return spec, draw


def _asa_monthly(metrics: dict) -> Built:
    year = int(metrics["year"])
    phone = metrics.get("phone") or {}
    monthly = phone.get("monthly") or []
    spec = ChartSpec(
        "asa-monthly", "phone-metrics", "Average speed of answer by month",
        f"Average speed of answer by month, {year}",
        [("Month", False), ("Average speed of answer", True), ("Calls offered", True)],
        [[fmt_month(r["month"]), fmt_hms(r["asa_seconds"]), fmt_thousands(r["offered"])]
         for r in monthly],
        "", "Monthly average speed of answer",
        note="Durations are shown as hours:minutes:seconds.")
    asa_rows = [r for r in monthly if r.get("asa_seconds") is not None]
    if not asa_rows:
        return spec, None
    slow = leaders(asa_rows, lambda r: r["asa_seconds"], lambda r: fmt_hms(r["asa_seconds"]))
    fast = leaders(asa_rows, lambda r: r["asa_seconds"], lambda r: fmt_hms(r["asa_seconds"]), lowest=True)
    year_avg = phone.get("asa_seconds")
    spec.summary = (f"Callers waited longest for an answer in {fmt_months([r['month'] for r in slow])} "
                    f"({fmt_hms(slow[0]['asa_seconds'])}{_each(slow)}) and shortest in "
                    f"{fmt_months([r['month'] for r in fast])} ({fmt_hms(fast[0]['asa_seconds'])}{_each(fast)})"
                    + (f"; the average for the year was {fmt_hms(year_avg)}."
                       if year_avg is not None else "."))
    spec.alt = f"Bar chart of the average speed of answer by month in {year}. {spec.summary}"
    return spec, lambda charts: charts.monthly_bar_svg(
        "chart-asa-monthly",
        [(fmt_month(r["month"])[:3], r["asa_seconds"], _min_sec(r["asa_seconds"])) for r in asa_rows],
        spec.alt, y_title="Seconds")


def _asa_aht(metrics: dict) -> Built:
    year = int(metrics["year"])
    phone = metrics.get("phone") or {}
    measures = [(label, phone.get(key)) for label, key in
                (("Average speed of answer", "asa_seconds"), ("Average handle time", "aht_seconds"))
                if phone.get(key) is not None]
    spec = ChartSpec(
        "asa-aht", "phone-metrics", "Average speed of answer and handle time",
        f"Average speed of answer and average handle time, {year}",
        [("Measure", False), ("Duration", True)],
        [[label, fmt_hms(value)] for label, value in measures],
        "", "Average speed of answer and handle time",
        note="Durations are shown as hours:minutes:seconds.")
    if not measures:
        return spec, None
    asa, aht = phone.get("asa_seconds"), phone.get("aht_seconds")
    bits = []
    if asa is not None:
        bits.append(f"a caller waited {fmt_duration_words(asa)} for an answer")
    if aht is not None:
        bits.append(f"a call took {fmt_duration_words(aht)} to handle")
    spec.summary = f"On average in {year}, " + " and ".join(bits) + "."
    spec.alt = f"Bar chart comparing the average speed of answer and the average handle time. {spec.summary}"
    return spec, lambda charts: charts.hbar_svg(
        "chart-asa-aht", [(label, value, fmt_hms(value)) for label, value in measures],
        spec.alt, x_title="Seconds", x_format="d", label_limit=200)


# --------------------------------------------------------------------------- transfers and languages


def _transfers_monthly(metrics: dict) -> Built:
    year = int(metrics["year"])
    transfers = metrics.get("transfers") or {}
    monthly = transfers.get("monthly") or []
    spec = ChartSpec(
        "transfers-monthly", "transfer-language-metrics", "Handled without transfer by month",
        f"Answered phone calls and live chats handled without transfer by month, {year}",
        [("Month", False), ("Handled without transfer", True), ("With a recorded transfer status", True)],
        [[fmt_month(r["month"]), fmt_pct(r["handled_without_transfer"], 1), fmt_thousands(r["recorded"])]
         for r in monthly],
        "", "Handled without transfer",
        note="Answered phone calls and live chats whose transfer status is recorded; percentages "
             "to one decimal; n/a: none recorded that month.")
    valid = [r for r in monthly if r["handled_without_transfer"] is not None]
    if not valid or transfers.get("handled_without_transfer") is None:
        return spec, None
    def shown(r: dict) -> str:
        return fmt_pct(r["handled_without_transfer"], 1)

    lows = leaders(valid, lambda r: r["handled_without_transfer"], shown, lowest=True)
    highs = leaders(valid, lambda r: r["handled_without_transfer"], shown)
    spec.summary = (f"{fmt_pct(transfers['handled_without_transfer'], 1)} of the "
                    f"{fmt_thousands(transfers['recorded'])} answered phone calls and live chats with "
                    f"a recorded transfer status were handled without transfer in {year}")
    if shown(lows[0]) == shown(highs[0]):
        spec.summary += f"; every month's share was {shown(lows[0])}."
    else:
        spec.summary += (f"; by month the share ranged from {shown(lows[0])} in "
                         f"{fmt_months([r['month'] for r in lows])} to {shown(highs[0])} in "
                         f"{fmt_months([r['month'] for r in highs])}.")
    spec.alt = (f"Bar chart of the share of answered phone calls and live chats handled without "
                f"transfer by month in {year}, on a scale of 0 to 100%. {spec.summary} "
                f"The table below gives every month's figures.")
    return spec, lambda charts: charts.monthly_share_svg(
        "chart-transfers-monthly",
        [(fmt_month(r["month"])[:3], r["handled_without_transfer"], fmt_pct(r["handled_without_transfer"], 1))
         for r in valid],
        spec.alt, y_title="Handled without transfer")


def _languages(metrics: dict) -> Built:
    year = int(metrics["year"])
    languages = metrics.get("languages") or {}
    top = languages.get("top_other_than_english") or []
    recorded = languages.get("recorded")

    def share(item: dict) -> str:
        return fmt_pct(item["share"], 1)

    spec = ChartSpec(
        "languages", "transfer-language-metrics", f"Top {len(top)} languages other than English",
        f"The {len(top)} most frequent languages of service other than English, {year}",
        [("Rank", True), ("Language", False), ("Interactions", True),
         ("Share of interactions with a recorded language", True)],
        [[str(i), fmt_language(t["language"]), fmt_thousands(t["count"]), share(t)]
         for i, t in enumerate(top, 1)],
        "", "Languages of service",
        note="Interactions on every channel whose language is recorded; percentages to one decimal.")
    if not top:
        return spec, None
    firsts = leaders(top, lambda t: t["count"], lambda t: fmt_thousands(t["count"]))
    spec.summary = (f"{fmt_pct(languages.get('other_than_english_share'), 1)} of the "
                    f"{fmt_thousands(recorded)} interactions with a recorded language in {year} were "
                    f"in a language other than English, most often "
                    f"{join_words([fmt_language(t['language']) for t in firsts])} "
                    f"({fmt_thousands(firsts[0]['count'])}{_each(firsts)}).")
    spec.alt = (f"Bar chart of the {len(top)} most frequent languages of service other than English "
                f"in {year}: "
                + "; ".join(f"{fmt_language(t['language'])} {fmt_thousands(t['count'])}" for t in top)
                + ".")
    return spec, lambda charts: charts.hbar_svg(
        "chart-languages",
        [(fmt_language(t["language"]), t["count"], f"{fmt_thousands(t['count'])} ({share(t)})") for t in top],
        spec.alt, x_title="Interactions")


# --------------------------------------------------------------------------- service requests


def _top_types(metrics: dict) -> Built:
    year = int(metrics["year"])
    srs = metrics.get("service_requests") or {}
    top = srs.get("top_types") or []

    def share(t: dict) -> str:
        return fmt_pct(t["share"])

    spec = ChartSpec(
        "top-types", "service-request-metrics", f"Top {len(top)} service request types",
        f"Top {len(top)} service request types, {year}",
        [("Rank", True), ("Service request type", False), ("Requests", True), ("Share of all requests", True)],
        [[str(i), t["sr_type"], fmt_thousands(t["count"]), share(t)] for i, t in enumerate(top, 1)],
        "", "Service request types")
    if not top:
        return spec, None
    firsts = leaders(top, lambda t: t["count"], lambda t: fmt_thousands(t["count"]))
    first = firsts[0]
    spec.summary = (f"{join_words([t['sr_type'] for t in firsts])} "
                    f"{'were the most frequent service request types' if len(firsts) > 1 else 'was the most frequent service request type'} "
                    f"in {year}, with {fmt_thousands(first['count'])} requests{_each(firsts)} "
                    f"({share(first)} of all requests{_each(firsts)}).")
    spec.alt = (f"Bar chart of the {len(top)} most frequent service request types in {year}: "
                + _listing(top, "sr_type", lambda t: fmt_thousands(t["count"])) + ".")
    return spec, lambda charts: charts.hbar_svg(
        "chart-top-types-10", [(t["sr_type"], t["count"], fmt_thousands(t["count"])) for t in top],
        spec.alt, x_title="Service requests")


def _divisions(metrics: dict) -> Built:
    year = int(metrics["year"])
    divisions = (metrics.get("service_requests") or {}).get("by_division") or []
    spec = ChartSpec(
        "divisions", "service-request-metrics", "Service requests by division",
        f"Service requests by responsible division, {year}",
        [("Division", False), ("Requests", True), ("Share", True)],
        [[d["division"], fmt_thousands(d["count"]), fmt_pct(d["share"])] for d in divisions],
        "", "Service requests by division", note=_total_note([d["share"] for d in divisions]))
    if not divisions:
        return spec, None
    firsts = leaders(divisions, lambda d: d["count"], lambda d: fmt_thousands(d["count"]))
    first = firsts[0]
    spec.summary = (f"{join_words([d['division'] for d in firsts])} "
                    f"{'were' if len(firsts) > 1 else 'was'} responsible for the most service requests in "
                    f"{year}: {fmt_thousands(first['count'])}{_each(firsts)} ({fmt_pct(first['share'])}{_each(firsts)}).")
    spec.alt = (f"Bar chart of service requests by responsible division in {year}. {spec.summary} "
                + _listing(divisions, "division", lambda d: fmt_thousands(d["count"])) + ".")
    return spec, lambda charts: charts.hbar_svg(
        "chart-divisions",
        [(d["division"], d["count"], f"{fmt_thousands(d['count'])} ({fmt_pct(d['share'])})")
         for d in divisions], spec.alt, x_title="Service requests", label_limit=280, width=300)


def _ward_map(metrics: dict) -> Built:
    year = int(metrics["year"])
    wards = ward_rows(metrics)
    words = setting_words(metrics["settings"])
    per = f"per {words['per_residents']} residents"
    spec = ChartSpec(
        "ward-map", "service-request-metrics", f"Service requests {per} by ward",
        f"Service requests by ward, {year}, {per} (2021 Census)",
        [("Ward", True), ("Ward name", False), ("Requests", True), (f"Per {words['per_residents']} residents", True)],
        [["–" if w.get("ward_number") is None else str(w["ward_number"]), w["ward_name"],
          fmt_thousands(w["count"]), fmt_decimal(w.get("per_1000_residents"), 1)] for w in wards],
        "", "Service requests by ward",
        note="Unknown: requests without a recognisable location; it has no population.")
    rated = [w for w in wards if w.get("ward_number") is not None and w.get("per_1000_residents") is not None]
    if not rated:
        return spec, None
    def rate(w: dict) -> str:
        return fmt_decimal(w["per_1000_residents"], 1)

    def named(ws: list[dict]) -> str:
        return ("Ward " if len(ws) == 1 else "Wards ") + join_words([f"{w['ward_number']} {w['ward_name']}" for w in ws])

    his = leaders(rated, lambda w: w["per_1000_residents"], rate)
    los = leaders(rated, lambda w: w["per_1000_residents"], rate, lowest=True)
    spec.summary = (f"{named(his)} had the most service requests {per} in {year} "
                    f"({rate(his[0])}{_each(his)}) and {named(los)} the fewest ({rate(los[0])}{_each(los)}).")
    spec.alt = (f"Map of {words['place']}'s {len(rated)} wards, each labelled with its number and shaded "
                f"by service requests {per} (darker is more). {spec.summary} "
                f"The table gives every ward's figures.")
    return spec, lambda charts: charts.ward_map_svg("chart-ward-map", wards, spec.alt,
                                                    legend_title=f"Requests {per}")


def _clocks_go_back(date: str, timezone: str) -> bool:
    """True on the autumn clock change in the profile's time zone (a 25-hour day: 1 a.m. to
    2 a.m. twice)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    day = dt.date.fromisoformat(date)
    tz = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    return start.utcoffset() > end.utcoffset()  # from daylight to standard time (Toronto: −4 h to −5 h)


def _surge_profile(metrics: dict) -> Built:
    year = int(metrics["year"])
    day = largest_surge_day(metrics)
    profile = (day or {}).get("profile") or []
    days = (metrics.get("service_requests") or {}).get("surge_days") or []
    settings = metrics["settings"]
    words, cutoff = setting_words(settings), settings["surge_profile_cutoff_hour"]
    when = surge_day_facts(day, settings)["short_date"] if day else str(year)
    # the surge days whose printed counts equal the largest: then it is one of them, the first
    biggest = leaders(days, lambda d: d["count"], lambda d: fmt_thousands(d["count"]))
    which = (f"the largest surge day of {year}" if len(biggest) < 2
             else f"the first of the {len(biggest)} largest surge days of {year}")
    spec = ChartSpec(
        "surge-profile", "service-request-metrics", f"Service requests through the day, {when}",
        f"Service requests made before each hour on {when}, {which}, "
        f"cumulative, for its {len(profile)} most frequent types",
        [("Made before", False)] + [(p["sr_type"], True) for p in profile],
        [[fmt_clock_hour(h)] + [fmt_thousands(p["cumulative_by_hour"][h - 1]) for p in profile]
         for h in range(1, 25)] if profile else [],
        "", "Surge-day profile",
        note=f"Local {words['place']} time" + (
            "; the clocks went back that night, so both 1 a.m. hours count before 2 a.m."
            if day and _clocks_go_back(day["date"], settings["timezone"]) else "."))
    if not profile:
        if metrics.get("service_requests") and not days:  # said in "About this appendix"
            spec.summary = f"There were no surge days in {year}."
        return spec, None
    facts = surge_day_facts(day, settings)
    spec.summary = facts["sentence"]
    if len(biggest) > 1:
        spec.summary += (f" {len(biggest)} of the {len(days)} surge days in {year} had "
                         f"{fmt_thousands(day['count'])} requests each; this is the first of them.")
    elif len(days) > 1:
        spec.summary += f" It was the largest of {len(days)} surge days in {year}."
    spec.alt = (f"Line chart of the service requests made through {when}, cumulative by hour, for "
                + " and ".join(p["sr_type"] for p in profile) + ". "
                + " ".join(f"{p['sr_type']}: {fmt_thousands(p['by_4pm'])} by {words['cutoff']}, "
                           f"{fmt_thousands(p['cumulative_by_hour'][-1])} by midnight." for p in profile)
                + " The table gives every hour's figures.")
    return spec, lambda charts: charts.cumulative_hours_svg(
        "chart-surge-profile", [(p["sr_type"], p["cumulative_by_hour"]) for p in profile], spec.alt,
        marker=(cutoff, fmt_clock_hour(cutoff)))


# --------------------------------------------------------------------------- knowledge base


def _kb_articles(metrics: dict) -> Built:
    year = int(metrics["year"])
    articles = (metrics.get("knowledge_base") or {}).get("top_articles") or []
    spec = ChartSpec(
        "kb-articles", "knowledge-base-metrics", f"Top {len(articles)} knowledge-base articles",
        f"Most viewed knowledge-base articles, {year}",
        [("Rank", True), ("Article", False), ("Page views", True)],
        [[str(i), a["article_title"], fmt_thousands(a["views"])] for i, a in enumerate(articles, 1)],
        "", "Knowledge-base article views")
    if not articles:
        return spec, None
    firsts = leaders(articles, lambda a: a["views"], lambda a: fmt_thousands(a["views"]))
    titles = join_words(["“" + a["article_title"] + "”" for a in firsts])
    spec.summary = (f"{titles} "
                    f"{'were the most viewed knowledge-base articles' if len(firsts) > 1 else 'was the most viewed knowledge-base article'} in "
                    f"{year}, with {fmt_thousands(firsts[0]['views'])} page views{_each(firsts)}.")
    spec.alt = (f"Bar chart of the {len(articles)} most viewed knowledge-base articles in {year}: "
                + _listing(articles, "article_title", lambda a: fmt_thousands(a["views"])) + ".")
    return spec, lambda charts: charts.hbar_svg(
        "chart-kb-articles", [(a["article_title"], a["views"], fmt_thousands(a["views"])) for a in articles],
        spec.alt, x_title="Page views")


# --------------------------------------------------------------------------- the catalogue

BUILDERS: list[Callable[[dict], Built]] = [
    _channels,
    _channel_change,
    _type_mix,
    _inquiry_surges,
    _service_level,
    _asa_monthly,
    _asa_aht,
    _transfers_monthly,
    _languages,
    _top_types,
    _divisions,
    _ward_map,
    _surge_profile,
    _kb_articles,
]


def key_metric_specs(metrics: dict, *, with_svg: bool = True) -> list[ChartSpec]:
    """The charts of the key-metrics appendices, in order, with their tables and summaries."""
    catalogue = chart_catalogue(metrics)
    if with_svg:  # without, no Altair/vl-convert import (Appendix B starts before the charts)
        draw_charts(catalogue)
    return [spec for spec, _ in catalogue]


def chart_catalogue(metrics: dict) -> Catalogue:
    """Every chart's ``ChartSpec`` (no SVG yet) with the function that draws it (None: nothing
    to draw), in document order: ``draw_charts`` draws them, all or some first."""
    return [build(metrics) for build in BUILDERS]


def draw_charts(catalogue: Catalogue, ids: tuple[str, ...] | None = None) -> list[ChartSpec]:
    """Draw the catalogue's charts (those of ``ids`` only, when given) into their specs'
    ``svg``, each once however often it is asked for; returns every spec, in order."""
    from . import charts

    for i, (spec, draw) in enumerate(catalogue):
        if draw is not None and (ids is None or spec.id in ids):
            svg = draw(charts)
            spec.svg = Markup(svg) if svg else None
            catalogue[i] = (spec, None)  # drawn
    return [spec for spec, _ in catalogue]
