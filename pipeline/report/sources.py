"""What a report says about its own sources: demo notice, input files, data notes, and the
sections its extract leaves empty."""

from __future__ import annotations

from pathlib import Path

from ..contract import is_demo, non_extract_paths
from ..warehouse import report_sources
from .formatting import fmt_encoding

# key_metrics section → (what the documents call it, what the extract lacks) when it is null
SECTION_NAMES = {
    "interactions": ("Interactions by channel and by type", "interactions"),
    "general_inquiries": ("General-inquiry topics", "general inquiries with a topic"),
    "phone": ("Phone service levels", "phone calls"),
    "email": ("E-mail acknowledgement", "e-mails"),
    "service_requests": ("Service requests", "service requests"),
    "knowledge_base": ("Knowledge-base article views", "knowledge-base page views"),
}


def report_meta(raw_dir: Path, db_path: Path, year: int) -> dict:
    """What the report says about its sources: demo notice, input files, data notes.

    The input files (``generated_from``) are every file the figures depend on: the year's
    folder, the prior year's (every comparison with the prior year reads it) and the Open Data
    files. ``sources`` gives each of them, in the same order, with how it was read
    (``read_as``: 'UTF-8', 'UTF-8 with a byte-order mark', 'Windows-1252'; None for Parquet)
    and the loader's notes on it (``notes``: the columns it did not read, by name, as one text;
    None when there are none). ``ignored`` lists the files in the raw folder that are not
    extracts (``{"file", "why"}``: the path relative to the raw folder, and why it is not read),
    found in the folder now by the loader's own rule (``contract.non_extract_paths``).
    ``delivery_order`` gives the input files in delivery order (``{"file",
    "by_modification_time"}``: placed by its modification time, first loaded together with
    other files), and ``decided_by_modification_time`` how many of their SRs had the version
    that counts chosen by that order."""
    sources = report_sources(db_path, year)
    not_available = []
    if sources["closing_times_available"] is False:
        not_available.append(
            "Closing times: the extract has no closing time for service requests, so time to "
            "close, the on-time rate and SRs open at year end are not available in this extract."
        )
    return {
        "demo": is_demo(raw_dir),
        # the analyst's narrative for the year (Markdown files); missing → neutral defaults
        "narrative_dir": raw_dir / "narrative" / str(year),
        "generated_from": sources["files"],
        "sources": [{"file": f["file"], "read_as": fmt_encoding(f["encoding"]), "notes": f["notes"]}
                    for f in sources["sources"]],
        "ignored": [{"file": rel, "why": why} for rel, why in non_extract_paths(raw_dir)],
        # the files in delivery order (which version of a repeated id counts), and how many SRs
        # the modification times of files first loaded together decided
        "delivery_order": sources["delivery_order"],
        "decided_by_modification_time": sources["decided_by_modification_time"],
        "rejects": sources["rejects"],
        "standards_illustrative": sources["standards_illustrative"],
        "cancelled_note": None,
        "not_available": not_available,
    }


def unavailable_sections(metrics: dict) -> list[str]:
    """One line per part of the report the extract leaves empty (the data notes list them,
    and ``report`` prints them before rendering): null sections, and no prior-year figures
    to compare with. Empty when everything is there."""
    prior = int(metrics["year"]) - 1
    out = [f"{name}: not available in this extract (it holds no {lacks} for {prior + 1}), so "
           "these figures are left out."
           for key, (name, lacks) in SECTION_NAMES.items() if metrics.get(key) is None]
    interactions = metrics.get("interactions")
    if interactions and interactions.get("by_channel") and not any(
            v is not None for v in (interactions.get("channel_change_vs_prior_year") or {}).values()):
        out.append(f"Change in interactions by channel: there are no {prior} interactions to compare with.")
    srs = metrics.get("service_requests")
    if srs and not srs.get("prior_year_total"):
        out.append(f"Change in service requests: there are no {prior} service requests to compare with.")
    return out

