"""What a report says about its own sources: demo notice, input files, data notes."""

from __future__ import annotations

from pathlib import Path

from ..contract import is_demo
from ..warehouse import report_sources


def report_meta(raw_dir: Path, db_path: Path, year: int) -> dict:
    """What the report says about its sources: demo notice, input files, data notes."""
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
        "rejects": sources["rejects"],
        "standards_illustrative": sources["standards_illustrative"],
        "cancelled_note": None,
        "not_available": not_available,
    }
