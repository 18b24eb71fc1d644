"""raw/reference/service_standards.csv: an analyst's standards replace the shipped ones."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.ingest import LoadError, OverrideError, load_service_standards


def _standards(raw: Path, text: str | None) -> list[tuple]:
    if text is not None:
        (raw / "reference").mkdir(parents=True)
        (raw / "reference" / "service_standards.csv").write_text(text, encoding="utf-8")
    con = duckdb.connect()
    load_service_standards(raw, con)
    return con.execute("SELECT * FROM raw.service_standards ORDER BY sr_type").fetchall()


def test_override_is_loaded_with_normalised_day_basis(tmp_path: Path) -> None:
    text = "sr_type,target_days,day_basis,owner\nGraffiti,7, Business \nNoise,5,calendar,MLS\n"
    assert _standards(tmp_path, text) == [("Graffiti", 7, "business"), ("Noise", 5, "calendar")]


def test_no_override_leaves_the_table_empty(tmp_path: Path) -> None:
    assert _standards(tmp_path, None) == []


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    with pytest.raises(OverrideError, match=r"service_standards.csv, line 3: expected sr_type"):
        _standards(tmp_path, "sr_type,target_days,day_basis\nGraffiti,7,business\nNoise,five,calendar\n")


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(OverrideError, match="required column\\(s\\) missing: day_basis"):
        _standards(tmp_path, "sr_type,target_days\nGraffiti,7\n")


def test_an_unreadable_csv_is_an_override_error(tmp_path: Path) -> None:
    # a field over the csv module's size limit: an OverrideError (a LoadError) naming the line
    with pytest.raises(OverrideError, match=r"service_standards.csv, line 3: not a readable CSV") as e:
        _standards(tmp_path, "sr_type,target_days,day_basis\nNoise,5,calendar\nGraffiti,7," + "x" * 200_000 + "\n")
    assert isinstance(e.value, LoadError)
