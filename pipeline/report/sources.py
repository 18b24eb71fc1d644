"""What a report says about its own sources: demo notice, input files, data notes, and what
its extracts do not hold (``not_held``: the one rule, and the one sentence that says it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..contract import is_demo, non_extract_paths
from ..warehouse import report_sources
from .formatting import fmt_encoding, join_words

# What the extracts of a period may not hold, in the order the documents name them: a
# key_metrics section (null when its source data is absent: ``pipeline.metrics``), or
# "closing_times" (service requests without closing times: the marts' closing_times_available)
# → (what the extracts then hold no ..., the figures that are then not available, each with
# whether it reads as plural).
NOT_HELD = {
    "interactions": ("contact-centre interactions", [("interactions by channel and type", True)]),
    "general_inquiries": ("general inquiries with a topic", [("general-inquiry topics", True)]),
    "phone": ("phone calls", [("phone service levels", True)]),
    "email": ("e-mails", [("e-mail acknowledgement", False)]),
    "transfers": ("transfer status for answered calls or chats",
                  [("the share handled without transfer", False)]),
    "languages": ("language of service for interactions", [("languages of service", True)]),
    "service_requests": ("service requests", [("service-request figures", True)]),
    "knowledge_base": ("knowledge-base page views", [("knowledge-base article views", True)]),
    "closing_times": ("closing times for service requests",
                      [("time to close", False), ("the on-time rate", False),
                       ("requests still open at {end}", True)]),
}
# The sections that come from the contact centre's interactions: null together when the
# extracts hold no interactions (a year of service requests only).
CONTACT_CENTRE = ("interactions", "general_inquiries", "phone", "email", "transfers", "languages")
CONTACT_CENTRE_FIGURES = ("the contact centre’s figures (interactions, general inquiries, phone and "
                          "e-mail service levels, transfers and languages of service)")


@dataclass(frozen=True)
class NotHeld:
    """What a period's extracts do not hold (``parts``: keys of ``NOT_HELD``, in its order) and
    the one sentence that says so (None when they hold everything). ``"phone" in not_held``."""

    parts: tuple[str, ...]
    sentence: str | None

    def __contains__(self, part: object) -> bool:
        return part in self.parts


def not_held(metrics: dict) -> NotHeld:
    """The one rule for what a year's documents leave out, from its key metrics: every null
    section, and closing times when the year's service requests have none. The documents leave
    those sections out (headings, charts, tables, contents) and say so once, in ``sentence``."""
    parts = [key for key in NOT_HELD if key != "closing_times" and metrics.get(key) is None]
    srs = metrics.get("service_requests")
    if srs and srs.get("closing_times_available") is False:
        parts.append("closing_times")
    return NotHeld(tuple(parts), not_held_sentence(str(metrics["year"]), parts, "year end"))


def not_held_sentence(period: str, parts: list[str] | tuple[str, ...], end: str) -> str | None:
    """'The extracts for 2018 hold service requests only: the contact centre’s figures (…) and
    knowledge-base article views are not available.' or 'The extracts for July 2024 hold no
    closing times for service requests: time to close, the on-time rate and requests still open
    at month end are not available.' (``end``: 'year end', 'month end'); None for no parts."""
    if not parts:
        return None

    def figures_of(keys: list[str] | tuple[str, ...]) -> list[tuple[str, bool]]:
        return [(text.format(end=end), plural) for key in keys for text, plural in NOT_HELD[key][1]]

    if "interactions" in parts and "service_requests" not in parts:  # service requests only
        held = ["service requests"] + (["knowledge-base page views"] if "knowledge_base" not in parts else [])
        hold = f"hold {join_words(held)} only" + (", without closing times" if "closing_times" in parts else "")
        figures = [(CONTACT_CENTRE_FIGURES, True)] + figures_of([p for p in parts if p not in CONTACT_CENTRE])
    else:
        lacks = [NOT_HELD[part][0] for part in parts]
        hold = "hold no " + (lacks[0] if len(lacks) == 1 else ", no ".join(lacks[:-1]) + " and no " + lacks[-1])
        figures = figures_of(parts)
    verb = "are" if len(figures) > 1 or figures[0][1] else "is"
    return f"The extracts for {period} {hold}: {join_words([text for text, _ in figures])} {verb} not available."


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
        # further notes for the data notes' "Figures not available" list (what the extracts do
        # not hold is said once, from the figures: ``not_held``)
        "not_available": [],
    }


def missing_comparisons(metrics: dict) -> list[str]:
    """One line per comparison with the prior year that the documents cannot make (the data
    notes list them, and ``report`` prints them before rendering): no prior-year interactions
    or service requests. What the year's own extracts do not hold is ``not_held``."""
    prior = int(metrics["year"]) - 1
    out = []
    interactions = metrics.get("interactions")
    if interactions and interactions.get("by_channel") and not any(
            v is not None for v in (interactions.get("channel_change_vs_prior_year") or {}).values()):
        out.append(f"Change in interactions by channel: there are no {prior} interactions to compare with.")
    srs = metrics.get("service_requests")
    if srs and not srs.get("prior_year_total"):
        out.append(f"Change in service requests: there are no {prior} service requests to compare with.")
    return out
