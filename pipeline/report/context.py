"""The template context of the annual report and its two appendices.

Public interface::

    DOCUMENTS                                               # kind → file stem, H1 and title, attachment name, template
    build_context(metrics, meta, output, kind, specs, narrative) -> dict
    service_sentences(metrics) -> {"languages": str | None, "transfers": str | None}

``metrics`` has the shape of ``key_metrics.json`` plus ``pipeline.metrics.DOCUMENTS_ONLY``;
``meta`` is described in ``pipeline.report.annual``. ``output`` is 'html' (screen) or 'pdf'
(WeasyPrint).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from markupsafe import Markup

from .chart_specs import GROUP_HEADINGS, ChartSpec, key_metric_specs
from .events import year_events
from .formatting import (
    ROUNDING_EXCEPTIONS,
    ROUNDING_RULE,
    ROUNDING_TOTAL,
    fmt_language,
    fmt_pct,
    fmt_thousands,
    join_words,
    leaders,
    setting_words,
    shares_may_not_total,
)
from .front_matter import annual_sections, staff_report
from .pdf import source_date
from .rows import channel_rows, prior_year, type_rows, ward_rows
from .sources import NotHeld, missing_comparisons, not_held
from .styles import stylesheet, with_names

# {service}: the city profile's service name ("311 Toronto"); {year}: the report's year
ANNUAL_NAME = "{service} Customer Experience Annual Report {year}"
DOCUMENTS = {
    # kind: (file stem, heading (H1) and title, name in the report's ATTACHMENTS, template)
    "annual": ("cx-annual-report-{year}", ANNUAL_NAME, "", "annual_report.html"),
    "appendix_a": ("appendix-a-key-metrics-{year}", "Appendix A - {service} Key Metrics Report {year}",
                   "Appendix A - {service} Key Metrics Report {year}", "key_metrics.html"),
    "appendix_b": ("appendix-b-key-metrics-{year}-text-only",
                   "Appendix B - {service} Key Metrics Report {year} (text only)",
                   "Appendix B - {service} Key Metrics Report {year} (text only)", "key_metrics.html"),
}


def named_documents(service: str) -> dict[str, tuple[str, str, str, str]]:
    """DOCUMENTS with the service's name in the headings (``{year}`` still to fill)."""
    return {kind: tuple(part.replace("{service}", service) for part in entry)  # type: ignore[misc]
            for kind, entry in DOCUMENTS.items()}
ANNUAL_TOP_TYPES = 5  # the annual report's own chart: the top 5 service request types


def _groups(specs: list[ChartSpec]) -> list[str]:
    seen: list[str] = []
    for spec in specs:
        if spec.group not in seen:
            seen.append(spec.group)
    return seen


# What the annual report's description (its PDF subject) names, with the part of the extracts
# each needs (None: always there): a year of service requests only names no phone figures.
ANNUAL_TOPICS = (("interactions", "interactions"), ("service_requests", "service requests"),
                 ("phone", "phone service levels"), ("service_requests", "service requests by ward"),
                 (None, "improvements"), (None, "partnerships and recommendations"))


def _annual_description(year: int, words: dict[str, str], held: NotHeld) -> str:
    topics = ", ".join(name for part, name in ANNUAL_TOPICS if part is None or part not in held)
    return (f"Annual report of {words['service']}'s {words['division']} for "
            f"January 1 to December 31, {year}: {topics}.")


def _appendix_topics(held: NotHeld) -> str:
    """'channels, interaction types, …, and knowledge-base articles': what the appendices hold."""
    names = ["channels", "interaction types"] if "interactions" not in held else []
    names += ["phone service levels"] if "phone" not in held else []
    kept = [name for part, name in (("transfers", "transfers"), ("languages", "languages of service"))
            if part not in held]
    names += [" and ".join(kept)] if kept else []
    names += ["service requests by type, division and ward"] if "service_requests" not in held else []
    names += ["knowledge-base articles"] if "knowledge_base" not in held else []
    return ", ".join(names[:-1]) + ", and " + names[-1] if len(names) > 1 else "".join(names)


def _appendix_description(year: int, text_only: bool, words: dict[str, str], held: NotHeld) -> str:
    edition = "text-only edition: every chart as a table with a summary" if text_only \
        else "charts, each with its data table"
    return (f"Key metrics of {words['service']}'s {words['division']} for January 1 "
            f"to December 31, {year} ({edition}): {_appendix_topics(held)}.")


# The annual report's Comments subsections that have nothing to show when the extracts do not
# hold all of these parts (``not_held``): left out, with their entry in the contents.
ANNUAL_LEFT_OUT = {
    "inquiries-and-requests": ("interactions",),
    "general-inquiries": ("interactions", "knowledge_base"),
    "service-requests": ("service_requests",),
    "phone": ("phone", "email"),
    "events": ("service_requests", "general_inquiries"),
    "wards": ("service_requests",),
}


def annual_left_out(held: NotHeld) -> frozenset[str]:
    """The ids of the annual report's subsections left out for what the extracts do not hold."""
    return frozenset(sid for sid, parts in ANNUAL_LEFT_OUT.items() if all(p in held for p in parts))


def service_sentences(metrics: dict) -> dict[str, str | None]:
    """One sentence each on the languages of service and on transfers, from the figures, for
    the annual report's running text (shares to one decimal: they lie close to 0 or 100%);
    None when the section is null."""
    year = int(metrics["year"])
    out: dict[str, str | None] = {"languages": None, "transfers": None}
    languages = metrics.get("languages")
    if languages:
        n = languages["distinct"]
        top = leaders(languages.get("top_other_than_english") or [], lambda t: t["count"],
                      lambda t: fmt_thousands(t["count"]))  # languages whose printed counts tie: named together
        most = f", most often {join_words([fmt_language(t['language']) for t in top])}" if top else ""
        out["languages"] = (
            f"In {year}, 311 served residents in {fmt_thousands(n)} language{'' if n == 1 else 's'}; "
            f"{fmt_pct(languages['other_than_english_share'], 1)} of interactions with a recorded "
            f"language were in a language other than English{most}.")
    transfers = metrics.get("transfers")
    if transfers and transfers.get("handled_without_transfer") is not None:
        rate = transfers["handled_without_transfer"]
        prior = transfers.get("prior_year_handled_without_transfer")
        which = ("answered phone calls and live chats" if transfers["recorded"] == transfers["answered"]
                 else "answered phone calls and live chats with a recorded transfer status")
        if prior is None:
            compared = ""
        elif fmt_pct(prior, 1) == fmt_pct(rate, 1):
            compared = f", the same as in {year - 1}"
        else:
            compared = f", {'up' if rate > prior else 'down'} from {fmt_pct(prior, 1)} in {year - 1}"
        out["transfers"] = (f"In {year}, {fmt_pct(rate, 1)} of {which} were handled without a "
                            f"transfer{compared}.")
    return out


def rounding_words(metrics: dict) -> dict[str, Any]:
    """The rounding rule as the documents state it, its exception, and where shares of one whole
    (channels, interaction types, divisions), as printed, do not add up to 100%."""
    divisions = (metrics.get("service_requests") or {}).get("by_division") or []
    return {
        "rule": ROUNDING_RULE,
        "near_100": ROUNDING_EXCEPTIONS["near_100"],
        "total": ROUNDING_TOTAL,
        "channels_total": shares_may_not_total([c["share"] for c in channel_rows(metrics)]),
        "types_total": shares_may_not_total([t["share"] for t in type_rows(metrics)]),
        "divisions_total": shares_may_not_total([d["share"] for d in divisions]),
    }


def _meta(meta: dict, metrics: dict) -> dict:
    generated_from = list(meta.get("generated_from") or [])
    return {
        "demo": bool(meta.get("demo")),
        "generated_from": generated_from,
        # the input files with how each was read and its load notes (only the names when the
        # caller gave none: nothing is said about how they were read)
        "sources": list(meta.get("sources") or [{"file": f, "read_as": None, "notes": None}
                                                for f in generated_from]),
        "ignored": list(meta.get("ignored") or []),
        "delivery_order": list(meta.get("delivery_order") or []),
        "decided_by_modification_time": int(meta.get("decided_by_modification_time") or 0),
        "cancelled_note": meta.get("cancelled_note"),
        "not_available": list(meta.get("not_available") or []),
        "rejects": list(meta.get("rejects") or []),
        "standards_illustrative": bool(meta.get("standards_illustrative")),
    }


# the appendix charts the annual report shows too (by ChartSpec id): with them drawn, its PDF
# can start before the appendix's other charts are (pipeline.report.annual)
ANNUAL_SPEC_CHARTS = ("service-level", "ward-map")


def _annual_charts(metrics: dict, specs: list[ChartSpec]) -> dict[str, Markup | None]:
    """The annual report's three charts: its own top-5 chart and two of the appendix charts
    (``ANNUAL_SPEC_CHARTS``)."""
    by_id = {spec.id: spec for spec in specs}
    service_level, ward_map = (by_id[i].svg if i in by_id else None for i in ANNUAL_SPEC_CHARTS)
    return {
        "top_types": _annual_top_types_svg(metrics),
        "monthly_service_level": service_level,
        "ward_map": ward_map,
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
                    narrative: dict | None, held: NotHeld) -> dict:
    """What differs between the annual report and the appendices: specs, sections, text."""
    year = int(metrics["year"])
    words = setting_words(metrics["settings"])
    text_only = kind == "appendix_b"
    if specs is None:
        specs = key_metric_specs(metrics, with_svg=not text_only)  # Appendix B draws no chart
    if narrative is None:
        from .narrative import render_report_text

        narrative = render_report_text(metrics, meta.get("narrative_dir"))
    if kind != "annual":
        shown = [sp for sp in specs if sp.rows]  # a chart with no rows is left out (and named)
        return {"specs": specs, "narrative": narrative, "charts": {},
                "sections": [("about", "About this appendix", [])]
                + [(g, GROUP_HEADINGS[g], []) for g in _groups(shown)],
                "description": _appendix_description(year, text_only, words, held)}
    # only the annual report draws these (the appendices draw ``specs``): no chart to export
    # for the others, so Appendix B needs no chart at all
    return {"specs": specs, "narrative": narrative, "charts": _annual_charts(metrics, specs),
            "sections": annual_sections(year, annual_left_out(held)),
            "description": _annual_description(year, words, held)}


def build_context(metrics: dict, meta: dict, output: str, kind: str = "annual",
                  specs: list[ChartSpec] | None = None, narrative: dict | None = None) -> dict:
    """The context the document's template renders (``DOCUMENTS[kind][3]``).

    ``specs`` (from ``key_metric_specs``) and ``narrative`` (from
    ``pipeline.report.narrative.render_report_text``) are computed when not given. When any
    narrative text falls back to a default, every document is a draft ("DRAFT" in the title).
    """
    year = int(metrics["year"])
    settings = metrics["settings"]
    words = setting_words(settings)
    documents = named_documents(settings["service"])
    _stem, heading, _attachment, _template = documents[kind]
    report_name = heading.format(year=year)
    demo = bool(meta.get("demo"))
    held = not_held(metrics)
    parts = _document_parts(metrics, meta, kind, specs, narrative, held)
    specs = parts["specs"]
    draft = bool(parts["narrative"]["draft"])
    return {
        **parts,
        **staff_report(parts["narrative"], kind, output, year, documents),
        "output": output,
        "kind": kind,
        "text_only": kind == "appendix_b",
        "stylesheet": Markup(with_names(stylesheet(output), words)),
        "title": ("DRAFT – " if draft else "") + report_name + (" (synthetic demo data)" if demo else ""),
        "heading": heading.format(year=year),
        "report_name": report_name,
        "annual_name": documents["annual"][1].format(year=year),
        "author": words["author"],
        "area": words["area"],
        # the city profile's settings (the values) and the phrases the documents state them in
        "settings": settings,
        "words": words,
        "period": f"January 1 to December 31, {year}",
        "year": year,
        "prior_year": prior_year(metrics),
        "m": metrics,
        "meta": _meta(meta, metrics),
        # for the annual report's text (the staff report's Comments): one sentence each, or None
        "service_sentences": service_sentences(metrics),
        # the year's events from the data (surge days, their 4 p.m. figures, inquiry surges):
        # facts and sentences, pipeline/report/events.py
        "year_events": year_events(metrics),
        "demo": demo,
        "type_rows": type_rows(metrics),
        "channel_rows": channel_rows(metrics),
        "wards": ward_rows(metrics),
        "rounding": rounding_words(metrics),
        "groups": [(g, GROUP_HEADINGS[g], [sp for sp in specs if sp.group == g and sp.rows])
                   for g in _groups([sp for sp in specs if sp.rows])],
        # what the extracts do not hold: left out, and said once (``not_held.sentence``)
        "not_held": held,
        # a chart with no rows of a section the extracts hold: named in "About this appendix"
        "left_out": [sp for sp in specs if not sp.rows and sp.section not in held],
        # comparisons with the prior year that cannot be made: the data notes list them
        "unavailable": missing_comparisons(metrics),
        "source_date": source_date(),
        "file_names": {k: v[0].format(year=year) for k, v in DOCUMENTS.items()},
    }
