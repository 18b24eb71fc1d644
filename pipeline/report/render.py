"""Render the annual report and its two appendices (HTML and tagged PDF/UA-1) from
``key_metrics.json`` data.

Public interface::

    render_annual_report(metrics: dict, meta: dict, out_dir: Path) -> list[Path]

writes, for year Y, ``cx-annual-report-Y``, ``appendix-a-key-metrics-Y`` (charts, each with
its data table) and ``appendix-b-key-metrics-Y-text-only`` (the same tables, no images), each
as ``.html`` and ``.pdf``. Appendix A and B are built from one list of ``ChartSpec``
(``key_metric_specs``), so their tables cannot differ.

``metrics`` has the shape of ``key_metrics.json`` (see docs / metric definitions); any
section may be ``None``. ``meta`` carries ``demo`` (bool), ``generated_from`` (list of
input file names), ``cancelled_note`` (str | None), ``not_available`` (list of str),
``rejects`` (list of ``{"file", "reasons"}``), ``standards_illustrative`` (bool) and
``narrative_dir`` (Path | None: the analyst's Markdown, see ``pipeline.narrative``).

All outputs are deterministic: rendering the same input twice gives identical bytes.
The PDF has fixed metadata (no wall-clock dates unless ``SOURCE_DATE_EPOCH`` is set)
and a document identifier derived from its content.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import html as html_lib
import io
import json
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..files import atomic_write
from ..paths import TEMPLATES_DIR
from .environment import make_environment
from .formatting import (
    AREA,
    CHANNEL_LABELS,
    NA,
    REPORT_AUTHOR,
    TYPE_LABELS,
    fmt_decimal,
    fmt_duration_words,
    fmt_hms,
    fmt_month,
    fmt_pct,
    fmt_signed_pct,
    fmt_thousands,
)

ENV = make_environment()


# --------------------------------------------------------------------------- stylesheets

_FONT_URL = re.compile(r'url\("(fonts/[A-Za-z0-9._-]+\.ttf)"\)(\s*format\("truetype"\))?')

# Characters the HTML needs from the embedded font: Basic Latin, Latin-1, Latin Extended-A
# (accented ward and street names) and general punctuation (dashes, quotes, minus sign).
_SUBSET_UNICODES = (
    list(range(0x20, 0x7F)) + list(range(0xA0, 0x180)) + list(range(0x2010, 0x2027))
    + [0x2030, 0x2039, 0x203A, 0x20AC, 0x2122, 0x2212, 0x2264, 0x2265]
)


WEB_FONTS_DIR = TEMPLATES_DIR / "fonts" / "web"


def subset_font(path: Path) -> bytes:
    """A WOFF2 subset (``_SUBSET_UNICODES``) of a shipped TTF, reproducibly."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(str(path), recalcTimestamp=False)  # no save-time stamp
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "tnum", "lnum"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_SUBSET_UNICODES)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff2"
    font.save(buf, reorderTables=True)
    return buf.getvalue()


def build_web_fonts() -> list[Path]:
    """Write the WOFF2 subsets the HTML embeds to report_templates/fonts/web/ (shipped, so a
    render does not spend seconds subsetting; tests check they match the TTFs)."""
    WEB_FONTS_DIR.mkdir(exist_ok=True)
    written = []
    for ttf in sorted((TEMPLATES_DIR / "fonts").glob("*.ttf")):
        target = WEB_FONTS_DIR / f"{ttf.stem}.woff2"
        target.write_bytes(subset_font(ttf))
        written.append(target)
    return written


@functools.cache
def _font_data_url(rel: str) -> str:
    """A subsetted WOFF2 of a shipped font as a data: URL (keeps the HTML self-contained)."""
    path = TEMPLATES_DIR / rel
    shipped = WEB_FONTS_DIR / f"{path.stem}.woff2"
    if shipped.exists():
        data, fmt = shipped.read_bytes(), "woff2"
    else:
        try:
            data, fmt = subset_font(path), "woff2"
        except Exception:  # pragma: no cover - fontTools/brotli missing: embed the TTF as is
            data, fmt = path.read_bytes(), "truetype"
    return f'url("data:font/{fmt};base64,{base64.b64encode(data).decode("ascii")}") format("{fmt}")'


@functools.cache
def _stylesheet(kind: str) -> str:
    """CSS text for one output kind: 'html' (screen + print media) or 'pdf' (WeasyPrint)."""
    css_dir = TEMPLATES_DIR / "css"
    css = (css_dir / "common.css").read_text(encoding="utf-8") + (css_dir / f"{kind}.css").read_text(
        encoding="utf-8"
    )
    if kind == "html":
        css = _FONT_URL.sub(lambda m: _font_data_url(m.group(1)), css)
    return css


# --------------------------------------------------------------------------- context


def _prior_year(metrics: dict) -> int:
    return int(metrics["year"]) - 1


ANNUAL_NAME = "311 Toronto Customer Experience Annual Report {year}"
DOCUMENTS = {
    # kind: (file stem, heading (H1), title suffix, template)
    "annual": ("cx-annual-report-{year}", ANNUAL_NAME, "", "annual_report.html"),
    "appendix_a": ("appendix-a-key-metrics-{year}", "Appendix A: Key Metrics Report {year}",
                   " – Appendix A: Key Metrics Report", "key_metrics.html"),
    "appendix_b": ("appendix-b-key-metrics-{year}-text-only",
                   "Appendix B: Key Metrics Report {year} (text only)",
                   " – Appendix B: Key Metrics Report (text only)", "key_metrics.html"),
}


def _type_rows(metrics: dict) -> list[dict]:
    interactions = metrics.get("interactions") or {}
    total = interactions.get("total") or 0
    return [{
        "key": key,
        "label": TYPE_LABELS.get(key, key.replace("_", " ").capitalize()),
        "count": count,
        "share": (count / total) if total else None,
    } for key, count in (interactions.get("by_type") or {}).items()]


def _channel_rows(metrics: dict) -> list[dict]:
    interactions = metrics.get("interactions") or {}
    total = interactions.get("total") or 0
    changes = interactions.get("channel_change_vs_prior_year") or {}
    return [{
        "key": key,
        "label": CHANNEL_LABELS.get(key, key.replace("_", " ").capitalize()),
        "count": count,
        "share": (count / total) if total else None,
        "change": changes.get(key),
    } for key, count in sorted((interactions.get("by_channel") or {}).items(),
                               key=lambda kv: (-kv[1], kv[0]))]


def _wards(metrics: dict) -> list[dict]:
    srs = metrics.get("service_requests") or {}
    return sorted(srs.get("by_ward") or [],
                  key=lambda w: (w.get("ward_number") is None, w.get("ward_number") or 0))


def _build_context(metrics: dict, meta: dict, output: str, kind: str = "annual",
                   specs: list[ChartSpec] | None = None, narrative: dict | None = None) -> dict:
    year = int(metrics["year"])
    stem, heading, suffix, _template = DOCUMENTS[kind]
    report_name = ANNUAL_NAME.format(year=year) + suffix
    title = report_name
    demo = bool(meta.get("demo"))
    if demo:
        title += " (synthetic demo data)"
    text_only = kind == "appendix_b"
    if specs is None:
        specs = key_metric_specs(metrics, with_svg=not text_only)  # Appendix B draws no chart

    if kind == "annual":
        if narrative is None:
            from .narrative import render_narrative

            narrative = render_narrative(metrics, meta.get("narrative_dir"))
        sections = [
            ("summary", "Summary"),
            ("general-inquiries", "General inquiries"),
            ("service-requests", "Service requests"),
            ("phone", "Phone channel service levels"),
            ("surges", "Surges"),
            ("wards", "Service requests by ward"),
        ]
        sections += [(key.replace("_", "-"), n["heading"]) for key, n in narrative.items()
                     if n["placement"] == "section"]
        sections.append(("data-notes", "Data notes"))
        description = (f"Annual report of 311 Toronto's Customer Experience Division for "
                       f"January 1 to December 31, {year}: interactions, service requests, "
                       f"phone service levels, service requests by ward, improvements, "
                       f"partnerships and recommendations.")
    else:
        sections = [("about", "About this appendix")]
        sections += [(g, GROUP_HEADINGS[g]) for g in _groups(specs)]
        edition = "text-only edition: every chart as a table with a summary" if text_only \
            else "charts, each with its data table"
        description = (f"Key metrics of 311 Toronto's Customer Experience Division for January 1 "
                       f"to December 31, {year} ({edition}): channels, interaction types, "
                       f"phone service levels, service requests by type, division and ward, "
                       f"and knowledge-base articles.")

    by_id = {spec.id: spec for spec in specs}
    return {
        "output": output,
        "kind": kind,
        "text_only": text_only,
        "stylesheet": Markup(_stylesheet(output)),
        "title": title,
        "heading": heading.format(year=year),
        "report_name": report_name,
        "annual_name": ANNUAL_NAME.format(year=year),
        "description": description,
        "author": REPORT_AUTHOR,
        "area": AREA,
        "period": f"January 1 to December 31, {year}",
        "year": year,
        "prior_year": _prior_year(metrics),
        "m": metrics,
        "meta": {
            "demo": demo,
            "generated_from": list(meta.get("generated_from") or []),
            "cancelled_note": meta.get("cancelled_note"),
            "not_available": list(meta.get("not_available") or []),
            "rejects": list(meta.get("rejects") or []),
            "standards_illustrative": bool(meta.get("standards_illustrative")),
        },
        "demo": demo,
        "type_rows": _type_rows(metrics),
        "channel_rows": _channel_rows(metrics),
        "wards": _wards(metrics),
        "sections": sections,
        "specs": specs,
        "groups": [(g, GROUP_HEADINGS[g], [sp for sp in specs if sp.group == g])
                   for g in _groups(specs)],
        # only the annual report draws these (the appendices draw ``specs``): no chart to export
        # for the others, so Appendix B needs no chart at all
        "charts": {
            "top_types": _annual_top_types_svg(metrics),
            "monthly_service_level": by_id["service-level"].svg if "service-level" in by_id else None,
            "ward_map": by_id["ward-map"].svg if "ward-map" in by_id else None,
        } if kind == "annual" else {},
        "narrative": narrative or {},
        "source_date": _source_date(),
        "file_names": {k: v[0].format(year=year) for k, v in DOCUMENTS.items()},
    }


def _annual_top_types_svg(metrics: dict) -> Markup | None:
    top = ((metrics.get("service_requests") or {}).get("top_types") or [])[:ANNUAL_TOP_TYPES]
    return _top_types_svg_cached(json.dumps(top, sort_keys=True)) if top else None


@functools.lru_cache(maxsize=8)
def _top_types_svg_cached(top_json: str) -> Markup | None:
    from . import charts

    svg = charts.top_types_svg(json.loads(top_json), "chart-top-types")
    return Markup(svg) if svg else None


# --------------------------------------------------------------------------- chart specs

ANNUAL_TOP_TYPES = 5
GROUP_HEADINGS = {
    "interaction-metrics": "Interactions",
    "phone-metrics": "Phone",
    "service-request-metrics": "Service requests",
    "knowledge-base-metrics": "Knowledge base",
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


def _sentence_join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plain_duration(seconds: Any) -> str:
    return fmt_duration_words(seconds)


def _min_sec(seconds: Any) -> str:
    """Short chart label for a duration under an hour: 47 → '0:47', 292 → '4:52'."""
    hms = fmt_hms(seconds)
    return hms[2:].lstrip("0").rjust(4, "0") if hms.startswith("0:") else hms


def key_metric_specs(metrics: dict, *, with_svg: bool = True) -> list[ChartSpec]:
    """The charts of the key-metrics appendices, in order, with their tables and summaries."""
    if with_svg:  # without, no Altair/vl-convert import (Appendix B starts before the charts)
        from . import charts

    year = int(metrics["year"])
    prior = _prior_year(metrics)
    interactions = metrics.get("interactions") or {}
    phone = metrics.get("phone") or {}
    srs = metrics.get("service_requests") or {}
    kb = metrics.get("knowledge_base") or {}
    specs: list[ChartSpec] = []

    # 1. channel mix
    ch = _channel_rows(metrics)
    spec = ChartSpec(
        "channels", "interaction-metrics", "Interactions by channel",
        f"Interactions by channel, {year}, with change from {prior}",
        [("Channel", False), ("Interactions", True), ("Share", True), (f"Change vs {prior}", True)],
        [[c["label"], fmt_thousands(c["count"]), fmt_pct(c["share"]), fmt_signed_pct(c["change"])]
         for c in ch],
        "", "Interactions by channel", note=f"n/a: no data for that channel in {prior}.")
    if ch:
        top = ch[0]
        spec.summary = (f"{top['label']} carried the most interactions in {year}: "
                        f"{fmt_thousands(top['count'])} of {fmt_thousands(interactions.get('total'))} "
                        f"({fmt_pct(top['share'])}).")
        spec.alt = (f"Bar chart of interactions by channel in {year}. {spec.summary} "
                    + "; ".join(f"{c['label']} {fmt_thousands(c['count'])}" for c in ch) + ".")
        if with_svg:
            spec.svg = charts.hbar_svg(
                "chart-channels",
                [(c["label"], c["count"], f"{fmt_thousands(c['count'])} ({fmt_pct(c['share'])})")
                 for c in ch], spec.alt, x_title="Interactions")
    specs.append(spec)

    # 2. channel change vs prior year
    changes = [c for c in ch if c["change"] is not None]
    spec = ChartSpec(
        "channel-change", "interaction-metrics", f"Change in interactions by channel since {prior}",
        f"Change in interactions by channel, {prior} to {year}",
        [("Channel", False), (f"Change vs {prior}", True)],
        [[c["label"], fmt_signed_pct(c["change"])] for c in ch],
        "", "Change by channel", note=f"n/a: no data for that channel in {prior}.")
    if changes:
        up = max(changes, key=lambda c: (c["change"], c["label"]))
        down = min(changes, key=lambda c: (c["change"], c["label"]))
        parts = []
        if up["change"] > 0:
            parts.append(f"{up['label']} grew the most ({fmt_signed_pct(up['change'])})")
        if down["change"] < 0:
            parts.append(f"{down['label']} fell the most ({fmt_signed_pct(down['change'])})")
        spec.summary = (f"Compared with {prior}, " + " and ".join(parts) + "."
                        if parts else f"No channel changed compared with {prior}.")
        spec.alt = (f"Bar chart of the change in interactions by channel from {prior} to {year}; "
                    f"increases right of zero, decreases left. {spec.summary}")
        if with_svg:
            spec.svg = charts.diverging_svg(
                "chart-channel-change",
                [(c["label"], c["change"], fmt_signed_pct(c["change"])) for c in ch],
                spec.alt, x_title=f"Change vs {prior}")
    elif ch:
        spec.summary = f"There is no {prior} data to compare the channels with."
    specs.append(spec)

    # 3. type mix
    types = _type_rows(metrics)
    spec = ChartSpec(
        "type-mix", "interaction-metrics", "Interactions by type", f"Interactions by type, {year}",
        [("Interaction type", False), ("Interactions", True), ("Share of all interactions", True)],
        [[t["label"], fmt_thousands(t["count"]), fmt_pct(t["share"])] for t in types],
        "", "Interactions by type")
    if types:
        big = max(types, key=lambda t: (t["count"], t["label"]))
        spec.summary = (f"{big['label']} were the largest share of interactions in {year}: "
                        f"{fmt_pct(big['share'])} ({fmt_thousands(big['count'])}).")
        spec.alt = (f"Bar chart of interactions by type in {year}. {spec.summary} "
                    + "; ".join(f"{t['label']} {fmt_pct(t['share'])}" for t in types) + ".")
        if with_svg:
            spec.svg = charts.hbar_svg(
                "chart-type-mix",
                [(t["label"], t["count"], f"{fmt_thousands(t['count'])} ({fmt_pct(t['share'])})")
                 for t in types], spec.alt, x_title="Interactions")
    specs.append(spec)

    # 4. monthly service level vs target
    monthly = phone.get("monthly") or []
    target = phone.get("target")
    spec = ChartSpec(
        "service-level", "phone-metrics", "Phone service level by month",
        f"Phone service level by month, {year}, against the {fmt_pct(target)} target",
        [("Month", False), ("Service level", True), ("Target met", False), ("Calls offered", True)],
        [[fmt_month(r["month"]), fmt_pct(r["service_level"]),
          NA if r["service_level"] is None or target is None
          else ("Yes" if r["service_level"] >= target else "No"),
          fmt_thousands(r["offered"])] for r in monthly],
        "", "Monthly service levels",
        note="Service level: calls answered within 75 seconds.")
    valid = [r for r in monthly if r["service_level"] is not None]
    if valid and target is not None:
        met = [r for r in valid if r["service_level"] >= target]
        low = min(valid, key=lambda r: (r["service_level"], r["month"]))
        spec.summary = (f"The phone service level met the {fmt_pct(target)} target in {len(met)} "
                        f"of {len(valid)} months; it was lowest in {fmt_month(low['month'])} "
                        f"({fmt_pct(low['service_level'])}).")
        if with_svg:
            svg = charts.monthly_service_level_svg(monthly, target, "chart-monthly-sl")
            spec.svg = Markup(svg) if svg else None
            spec.alt = _svg_title(svg)
    specs.append(spec)

    # 5. monthly ASA
    spec = ChartSpec(
        "asa-monthly", "phone-metrics", "Average speed of answer by month",
        f"Average speed of answer by month, {year}",
        [("Month", False), ("Average speed of answer", True), ("Calls offered", True)],
        [[fmt_month(r["month"]), fmt_hms(r["asa_seconds"]), fmt_thousands(r["offered"])]
         for r in monthly],
        "", "Monthly average speed of answer",
        note="Durations are shown as hours:minutes:seconds.")
    asa_rows = [r for r in monthly if r.get("asa_seconds") is not None]
    if asa_rows:
        slow = max(asa_rows, key=lambda r: (r["asa_seconds"], r["month"]))
        fast = min(asa_rows, key=lambda r: (r["asa_seconds"], r["month"]))
        spec.summary = (f"Callers waited longest for an answer in {fmt_month(slow['month'])} "
                        f"({fmt_hms(slow['asa_seconds'])}) and shortest in "
                        f"{fmt_month(fast['month'])} ({fmt_hms(fast['asa_seconds'])})"
                        + (f"; the average for the year was {fmt_hms(phone.get('asa_seconds'))}."
                           if phone.get("asa_seconds") is not None else "."))
        spec.alt = f"Bar chart of the average speed of answer by month in {year}. {spec.summary}"
        if with_svg:
            spec.svg = charts.monthly_bar_svg(
                "chart-asa-monthly",
                [(fmt_month(r["month"])[:3], r["asa_seconds"], _min_sec(r["asa_seconds"]))
                 for r in asa_rows],
                spec.alt, y_title="Seconds")
    specs.append(spec)

    # 6. ASA and AHT for the year
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
    if measures:
        asa, aht = phone.get("asa_seconds"), phone.get("aht_seconds")
        bits = []
        if asa is not None:
            bits.append(f"a caller waited {_plain_duration(asa)} for an answer")
        if aht is not None:
            bits.append(f"a call took {_plain_duration(aht)} to handle")
        spec.summary = f"On average in {year}, " + " and ".join(bits) + "."
        spec.alt = f"Bar chart comparing the average speed of answer and the average handle time. {spec.summary}"
        if with_svg:
            spec.svg = charts.hbar_svg(
                "chart-asa-aht", [(label, value, fmt_hms(value)) for label, value in measures],
                spec.alt, x_title="Seconds", x_format="d", label_limit=200)
    specs.append(spec)

    # 7. top 10 SR types
    top = srs.get("top_types") or []
    total = srs.get("total")
    spec = ChartSpec(
        "top-types", "service-request-metrics", f"Top {len(top)} service request types",
        f"Top {len(top)} service request types, {year}",
        [("Rank", True), ("Service request type", False), ("Requests", True), ("Share of all requests", True)],
        [[str(i), t["sr_type"], fmt_thousands(t["count"]),
          fmt_pct(t["count"] / total if total else None)] for i, t in enumerate(top, 1)],
        "", "Service request types")
    if top:
        first = top[0]
        spec.summary = (f"{first['sr_type']} was the most frequent service request type in {year}, "
                        f"with {fmt_thousands(first['count'])} requests "
                        f"({fmt_pct(first['count'] / total if total else None)} of all requests).")
        spec.alt = (f"Bar chart of the {len(top)} most frequent service request types in {year}: "
                    + "; ".join(f"{t['sr_type']} {fmt_thousands(t['count'])}" for t in top) + ".")
        if with_svg:
            spec.svg = charts.hbar_svg(
                "chart-top-types-10", [(t["sr_type"], t["count"], fmt_thousands(t["count"])) for t in top],
                spec.alt, x_title="Service requests")
    specs.append(spec)

    # 8. SRs by division
    divisions = srs.get("by_division") or []
    spec = ChartSpec(
        "divisions", "service-request-metrics", "Service requests by division",
        f"Service requests by responsible division, {year}",
        [("Division", False), ("Requests", True), ("Share", True)],
        [[d["division"], fmt_thousands(d["count"]), fmt_pct(d["share"])] for d in divisions],
        "", "Service requests by division")
    if divisions:
        first = divisions[0]
        spec.summary = (f"{first['division']} was responsible for the most service requests in "
                        f"{year}: {fmt_thousands(first['count'])} ({fmt_pct(first['share'])}).")
        spec.alt = (f"Bar chart of service requests by responsible division in {year}. {spec.summary} "
                    + "; ".join(f"{d['division']} {fmt_thousands(d['count'])}" for d in divisions) + ".")
        if with_svg:
            spec.svg = charts.hbar_svg(
                "chart-divisions",
                [(d["division"], d["count"], f"{fmt_thousands(d['count'])} ({fmt_pct(d['share'])})")
                 for d in divisions], spec.alt, x_title="Service requests", label_limit=280, width=300)
    specs.append(spec)

    # 9. ward map
    wards = _wards(metrics)
    spec = ChartSpec(
        "ward-map", "service-request-metrics", "Service requests per 1,000 residents by ward",
        f"Service requests by ward, {year}, per 1,000 residents (2021 Census)",
        [("Ward", True), ("Ward name", False), ("Requests", True), ("Per 1,000 residents", True)],
        [["–" if w.get("ward_number") is None else str(w["ward_number"]), w["ward_name"],
          fmt_thousands(w["count"]), fmt_decimal(w.get("per_1000_residents"), 1)] for w in wards],
        "", "Service requests by ward",
        note="Unknown: requests without a recognisable location; it has no population.")
    rated = [w for w in wards if w.get("ward_number") is not None and w.get("per_1000_residents") is not None]
    if rated:
        hi = max(rated, key=lambda w: (w["per_1000_residents"], -w["ward_number"]))
        lo = min(rated, key=lambda w: (w["per_1000_residents"], w["ward_number"]))
        spec.summary = (f"Ward {hi['ward_number']} {hi['ward_name']} had the most service requests "
                        f"per 1,000 residents in {year} ({fmt_decimal(hi['per_1000_residents'], 1)}) "
                        f"and Ward {lo['ward_number']} {lo['ward_name']} the fewest "
                        f"({fmt_decimal(lo['per_1000_residents'], 1)}).")
        spec.alt = (f"Map of Toronto's {len(rated)} wards, each labelled with its number and shaded "
                    f"by service requests per 1,000 residents (darker is more). {spec.summary} "
                    f"The table gives every ward's figures.")
        if with_svg:
            spec.svg = charts.ward_map_svg("chart-ward-map", wards, spec.alt)
    specs.append(spec)

    # 10. top KB articles
    articles = kb.get("top_articles") or []
    spec = ChartSpec(
        "kb-articles", "knowledge-base-metrics", f"Top {len(articles)} knowledge-base articles",
        f"Most viewed knowledge-base articles, {year}",
        [("Rank", True), ("Article", False), ("Page views", True)],
        [[str(i), a["article_title"], fmt_thousands(a["views"])] for i, a in enumerate(articles, 1)],
        "", "Knowledge-base article views")
    if articles:
        first = articles[0]
        spec.summary = (f"“{first['article_title']}” was the most viewed knowledge-base article in "
                        f"{year}, with {fmt_thousands(first['views'])} page views.")
        spec.alt = (f"Bar chart of the {len(articles)} most viewed knowledge-base articles in {year}: "
                    + "; ".join(f"{a['article_title']} {fmt_thousands(a['views'])}" for a in articles) + ".")
        if with_svg:
            spec.svg = charts.hbar_svg(
                "chart-kb-articles", [(a["article_title"], a["views"], fmt_thousands(a["views"]))
                                      for a in articles], spec.alt, x_title="Page views")
    specs.append(spec)

    for spec in specs:
        if spec.svg is not None and not isinstance(spec.svg, Markup):
            spec.svg = Markup(spec.svg)
    return specs


def _svg_title(svg: str | None) -> str:
    if not svg:
        return ""
    m = re.search(r"<title[^>]*>(.*?)</title>", svg, flags=re.S)
    return html_lib.unescape(m.group(1)) if m else ""


def _groups(specs: list[ChartSpec]) -> list[str]:
    seen: list[str] = []
    for spec in specs:
        if spec.group not in seen:
            seen.append(spec.group)
    return seen


def _source_date() -> str | None:
    """W3C date for the PDF metadata from SOURCE_DATE_EPOCH, or None (no dates: reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    stamp = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- rendering


def render_html(metrics: dict, meta: dict, output: str = "html", kind: str = "annual",
                specs: list[ChartSpec] | None = None, narrative: dict | None = None) -> str:
    """One document as a self-contained HTML string ('html' for screen, 'pdf' for WeasyPrint).

    ``kind`` is 'annual', 'appendix_a' or 'appendix_b'. ``specs`` (from ``key_metric_specs``)
    and ``narrative`` (from ``pipeline.narrative.render_narrative``) are computed when not given.
    """
    template = ENV.get_template(DOCUMENTS[kind][3])
    return template.render(**_build_context(metrics, meta, output, kind, specs, narrative))


def html_to_pdf(html: str) -> bytes:
    """Tagged PDF/UA-1 bytes from the print HTML, reproducibly."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR / "annual_report.html"))
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return document.write_pdf(
        pdf_variant="pdf/ua-1",
        pdf_identifier=identifier,
        font_config=font_config,
        custom_metadata=False,
    )


# PDFs are rendered in parallel worker processes when there is more than one CPU.
PDF_WORKERS = max(1, min(2, os.cpu_count() or 1))


def _pdf_worker_init() -> None:
    """Each PDF worker imports WeasyPrint (about 0.5 s) as it starts, unless it was forked from
    a process that had imported it. A failure is left to the task that needs it to report
    (a failing initializer would break the whole pool)."""
    with contextlib.suppress(Exception):
        import weasyprint  # noqa: F401


def _pdf_pool() -> ProcessPoolExecutor | None:
    """A pool of forked workers for WeasyPrint, or None to render in this process.

    Fork (not spawn): the workers need nothing but ``html_to_pdf`` and must not re-run the
    caller's ``__main__`` (``python -m pipeline`` has no main guard). The workers are forked at
    the first ``submit``; they never draw a chart: vl-convert's runtime threads do not survive a
    fork, so a worker forked from a process that had drawn one would wait for them forever.
    """
    import multiprocessing

    if PDF_WORKERS < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(max_workers=PDF_WORKERS, mp_context=multiprocessing.get_context("fork"),
                               initializer=_pdf_worker_init)


def render_annual_report(metrics: dict, meta: dict, out_dir: Path,
                         progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Write the annual report and Appendix A and B (``.html`` and ``.pdf`` each) to ``out_dir``.

    Returns the six paths: annual HTML, annual PDF, Appendix A HTML, PDF, Appendix B HTML, PDF.
    Raises ``pipeline.narrative.NarrativeError`` (file and line) for a bad narrative file,
    before anything is written.
    """
    from .narrative import render_narrative

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    year = int(metrics["year"])

    narrative = render_narrative(metrics, meta.get("narrative_dir"))
    kinds = list(DOCUMENTS)
    htmls: dict[str, str] = {}
    prints: dict[str, str] = {}
    futures: dict[str, Future] = {}
    pool = _pdf_pool()
    try:
        if pool is not None:
            import weasyprint  # noqa: F401  (once, here: the forked workers inherit it)
        # Appendix B (text only) needs no chart: its PDF starts at once, in a worker (the first
        # submit forks them), while this process draws the charts.
        plain = key_metric_specs(metrics, with_svg=False)
        prints["appendix_b"] = render_html(metrics, meta, "pdf", "appendix_b", plain, narrative)
        if pool is not None:
            futures["appendix_b"] = pool.submit(html_to_pdf, prints["appendix_b"])
        htmls["appendix_b"] = render_html(metrics, meta, "html", "appendix_b", plain, narrative)
        specs = key_metric_specs(metrics)  # every chart exported once, shared by all documents
        for kind in ("annual", "appendix_a"):
            prints[kind] = render_html(metrics, meta, "pdf", kind, specs, narrative)
            if pool is not None:
                futures[kind] = pool.submit(html_to_pdf, prints[kind])
        for kind in ("annual", "appendix_a"):
            htmls[kind] = render_html(metrics, meta, "html", kind, specs, narrative)
        pdfs: dict[str, bytes] = {}
        for kind in kinds:
            pdfs[kind] = futures[kind].result() if pool is not None else html_to_pdf(prints[kind])
            if progress is not None:
                progress(DOCUMENTS[kind][0].format(year=year) + ".pdf", len(pdfs), len(kinds))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    paths: list[Path] = []
    for kind in kinds:
        stem = DOCUMENTS[kind][0].format(year=year)
        html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
        atomic_write(html_path, htmls[kind].encode("utf-8"))
        atomic_write(pdf_path, pdfs[kind])
        paths += [html_path, pdf_path]
    return paths
