"""The documents' fixture: ``tests/fixtures/key_metrics_sample.json`` (every figure the tests
expect is formatted by hand from it) and the run metadata the documents are rendered with."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "key_metrics_sample.json"

# Demo data, read from two Parquet files, no narrative folder (every narrative text is the
# neutral default, so the documents are drafts). Shared by the modules: copy it before changing
# it (``{**META, ...}`` or ``copy.deepcopy(META)``).
META = {
    "demo": True,
    "generated_from": ["2024/interactions_2024.parquet", "2024/service_requests_2024.parquet"],
    "cancelled_note": "Cancelled requests include duplicates merged by divisions.",
    "not_available": [],
}


def load_metrics() -> dict:
    """A fresh copy of the fixture's key metrics (callers may change it)."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))
