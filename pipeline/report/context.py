"""The template context of the annual report and its two appendices.

Public interface::

    DOCUMENTS                                               # kind → file stem, H1, title suffix, template
    build_context(metrics, meta, output, kind, specs, narrative) -> dict

``metrics`` has the shape of ``key_metrics.json``; ``meta`` is described in
``pipeline.report.annual``. ``output`` is 'html' (screen) or 'pdf' (WeasyPrint).
"""

from __future__ import annotations

import functools
import json

from markupsafe import Markup

from .chart_specs import GROUP_HEADINGS, ChartSpec, key_metric_specs
from .formatting import AREA, REPORT_AUTHOR
from .pdf import source_date
from .rows import channel_rows, prior_year, type_rows, ward_rows
from .styles import stylesheet

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
ANNUAL_TOP_TYPES = 5  # the annual report's own chart: the top 5 service request types
ANNUAL_SECTIONS = [
    ("summary", "Summary"),
    ("general-inquiries", "General inquiries"),
    ("service-requests", "Service requests"),
    ("phone", "Phone channel service levels"),
    ("surges", "Surges"),
    ("wards", "Service requests by ward"),
]


def _groups(specs: list[ChartSpec]) -> list[str]:
    seen: list[str] = []
    for spec in specs:
        if spec.group not in seen:
            seen.append(spec.group)
    return seen


def _annual_sections(narrative: dict) -> list[tuple[str, str]]:
    """The annual report's table of contents: fixed sections, narrative sections, data notes."""
    sections = list(ANNUAL_SECTIONS)
    sections += [(key.replace("_", "-"), n["heading"]) for key, n in narrative.items()
                 if n["placement"] == "section"]
    sections.append(("data-notes", "Data notes"))
    return sections


def _annual_description(year: int) -> str:
    return (f"Annual report of 311 Toronto's Customer Experience Division for "
            f"January 1 to December 31, {year}: interactions, service requests, "
            f"phone service levels, service requests by ward, improvements, "
            f"partnerships and recommendations.")


def _appendix_description(year: int, text_only: bool) -> str:
    edition = "text-only edition: every chart as a table with a summary" if text_only \
        else "charts, each with its data table"
    return (f"Key metrics of 311 Toronto's Customer Experience Division for January 1 "
            f"to December 31, {year} ({edition}): channels, interaction types, "
            f"phone service levels, service requests by type, division and ward, "
            f"and knowledge-base articles.")


def _meta(meta: dict) -> dict:
    return {
        "demo": bool(meta.get("demo")),
        "generated_from": list(meta.get("generated_from") or []),
        "cancelled_note": meta.get("cancelled_note"),
        "not_available": list(meta.get("not_available") or []),
        "rejects": list(meta.get("rejects") or []),
        "standards_illustrative": bool(meta.get("standards_illustrative")),
    }


def _annual_charts(metrics: dict, specs: list[ChartSpec]) -> dict[str, Markup | None]:
    """The annual report's three charts: its own top-5 chart and two of the appendix charts."""
    by_id = {spec.id: spec for spec in specs}
    return {
        "top_types": _annual_top_types_svg(metrics),
        "monthly_service_level": by_id["service-level"].svg if "service-level" in by_id else None,
        "ward_map": by_id["ward-map"].svg if "ward-map" in by_id else None,
    }


def _annual_top_types_svg(metrics: dict) -> Markup | None:
    top = ((metrics.get("service_requests") or {}).get("top_types") or [])[:ANNUAL_TOP_TYPES]
    return _top_types_svg_cached(json.dumps(top, sort_keys=True)) if top else None


@functools.lru_cache(maxsize=8)
def _top_types_svg_cached(top_json: str) -> Markup | None:
    from . import charts

    svg = charts.top_types_svg(json.loads(top_json), "chart-top-types")
    return Markup(svg) if svg else None


def _document_parts(metrics: dict, meta: dict, kind: str, specs: list[ChartSpec] | None,
                    narrative: dict | None) -> dict:
    """What differs between the annual report and the appendices: specs, sections, text."""
    year = int(metrics["year"])
    text_only = kind == "appendix_b"
    if specs is None:
        specs = key_metric_specs(metrics, with_svg=not text_only)  # Appendix B draws no chart
    if kind != "annual":
        return {"specs": specs, "narrative": narrative or {}, "charts": {},
                "sections": [("about", "About this appendix")]
                + [(g, GROUP_HEADINGS[g]) for g in _groups(specs)],
                "description": _appendix_description(year, text_only)}
    if narrative is None:
        from .narrative import render_narrative

        narrative = render_narrative(metrics, meta.get("narrative_dir"))
    # only the annual report draws these (the appendices draw ``specs``): no chart to export
    # for the others, so Appendix B needs no chart at all
    return {"specs": specs, "narrative": narrative or {}, "charts": _annual_charts(metrics, specs),
            "sections": _annual_sections(narrative), "description": _annual_description(year)}


def build_context(metrics: dict, meta: dict, output: str, kind: str = "annual",
                  specs: list[ChartSpec] | None = None, narrative: dict | None = None) -> dict:
    """The context the document's template renders (``DOCUMENTS[kind][3]``).

    ``specs`` (from ``key_metric_specs``) and ``narrative`` (from
    ``pipeline.report.narrative.render_narrative``) are computed when not given.
    """
    year = int(metrics["year"])
    _stem, heading, suffix, _template = DOCUMENTS[kind]
    report_name = ANNUAL_NAME.format(year=year) + suffix
    demo = bool(meta.get("demo"))
    parts = _document_parts(metrics, meta, kind, specs, narrative)
    specs = parts["specs"]
    return {
        **parts,
        "output": output,
        "kind": kind,
        "text_only": kind == "appendix_b",
        "stylesheet": Markup(stylesheet(output)),
        "title": report_name + (" (synthetic demo data)" if demo else ""),
        "heading": heading.format(year=year),
        "report_name": report_name,
        "annual_name": ANNUAL_NAME.format(year=year),
        "author": REPORT_AUTHOR,
        "area": AREA,
        "period": f"January 1 to December 31, {year}",
        "year": year,
        "prior_year": prior_year(metrics),
        "m": metrics,
        "meta": _meta(meta),
        "demo": demo,
        "type_rows": type_rows(metrics),
        "channel_rows": channel_rows(metrics),
        "wards": ward_rows(metrics),
        "groups": [(g, GROUP_HEADINGS[g], [sp for sp in specs if sp.group == g])
                   for g in _groups(specs)],
        "source_date": source_date(),
        "file_names": {k: v[0].format(year=year) for k, v in DOCUMENTS.items()},
    }
