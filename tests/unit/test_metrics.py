"""key_metrics.csv and atomic writes (the figures themselves are checked end to end in
test_pipeline.py)."""

from __future__ import annotations

from pathlib import Path

from pipeline.metrics import to_csv, write_key_metrics


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
