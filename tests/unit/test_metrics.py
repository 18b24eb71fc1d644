"""key_metrics.csv and atomic writes (the figures themselves are checked end to end in
test_pipeline.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from pipeline.metrics import published, to_csv, write_key_metrics


def test_csv_flattens_every_value_by_json_path() -> None:
    metrics = {
        "year": 2024,
        "phone": {"service_level": 0.5, "monthly": [{"month": "2024-01", "offered": 2}]},
        "email": None,
    }
    assert to_csv(metrics) == (
        "metric,value\n"
        "year,2024\n"
        "phone.service_level,0.5\n"
        "phone.monthly[0].month,2024-01\n"
        "phone.monthly[0].offered,2\n"
        "email,\n"
    )


def test_writes_json_and_csv_without_leaving_temporary_files(tmp_path: Path) -> None:
    written = write_key_metrics({"year": 2024, "email": None}, tmp_path / "2024")
    assert [p.name for p in written] == ["key_metrics.json", "key_metrics.csv"]
    assert (tmp_path / "2024" / "key_metrics.json").read_text() == '{\n  "year": 2024,\n  "email": null\n}\n'
    assert sorted(p.name for p in (tmp_path / "2024").iterdir()) == ["key_metrics.csv", "key_metrics.json"]


def test_the_documents_figures_are_left_out_of_key_metrics_json(tmp_path: Path) -> None:
    """target_met and the shares beside counts are read by the documents from the marts, and
    left out of key_metrics.json, whose shape docs/metrics.md gives (by_division keeps its share)."""
    metrics = {
        "year": 2024,
        "interactions": {"total": 4, "by_type": {"general_inquiry": 3}, "share_by_type": {"general_inquiry": 0.75},
                         "share_by_channel": {"phone": 1.0}},
        "phone": {"service_level": 0.5, "target": 0.8, "target_met": False,
                  "monthly": [{"month": "2024-01", "service_level": None, "target_met": None, "offered": 2}]},
        "languages": None,
        "service_requests": {"top_types": [{"sr_type": "Graffiti", "count": 1, "share": 0.25}],
                             "by_division": [{"division": "Transportation", "count": 4, "share": 1.0}]},
    }
    before = copy.deepcopy(metrics)
    assert published(metrics) == {
        "year": 2024,
        "interactions": {"total": 4, "by_type": {"general_inquiry": 3}},
        "phone": {"service_level": 0.5, "target": 0.8,
                  "monthly": [{"month": "2024-01", "service_level": None, "offered": 2}]},
        "languages": None,
        "service_requests": {"top_types": [{"sr_type": "Graffiti", "count": 1}],
                             "by_division": [{"division": "Transportation", "count": 4, "share": 1.0}]},
    }
    assert metrics == before  # the documents still get them
    write_key_metrics(metrics, tmp_path)
    written = json.loads((tmp_path / "key_metrics.json").read_text())
    assert written == published(metrics) and list(written["phone"]) == ["service_level", "target", "monthly"]
    assert "target_met" not in (tmp_path / "key_metrics.csv").read_text()
