"""Tests for pipeline.transform: dbt's unit tests run here (production builds leave them out),
and dbt's parse state carries over to a new output folder."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.ingest import load
from pipeline.paths import DBT_DIR
from pipeline.ingest import load_service_standards
from pipeline.transform import PARSE_CACHE, build, run_dbt

INTERACTIONS = """\
interaction_id,started_at,channel,interaction_type,topic,outcome,queue_seconds,handle_seconds
i1,2024-01-10 09:00:00,phone,general_inquiry,Property Tax Billing,answered,30,200
i2,2024-01-10 09:05:00,web,general_inquiry,Property Tax Billing,,,
"""
SERVICE_REQUESTS = """\
sr_id,created_at,closed_at,status,sr_type,division,section,ward
S1,2024-02-01 10:05:00,2024-02-03 10:05:00,Closed,Road - Pot hole,Transportation Services,Road Operations,2
"""


def load_warehouse(raw: Path, db: Path) -> None:
    """What `make load` does before dbt: the extracts, then the service-standards override."""
    load(raw, db)
    with duckdb.connect(str(db)) as con:
        load_service_standards(raw, con)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw folder, output folder) of a warehouse built with dbt's unit tests."""
    raw = tmp_path_factory.mktemp("raw")
    (raw / "2024").mkdir()
    (raw / "2024" / "interactions_2024.csv").write_text(INTERACTIONS, encoding="utf-8")
    (raw / "2024" / "service_requests_2024.csv").write_text(SERVICE_REQUESTS, encoding="utf-8")
    output = tmp_path_factory.mktemp("output")
    load_warehouse(raw, output / "warehouse.duckdb")
    assert build(output / "warehouse.duckdb", output, unit_tests=True) is True
    return raw, output


def declared_unit_tests() -> set[str]:
    names = set()
    for path in (DBT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {t["name"] for t in doc.get("unit_tests", [])}
    return names


def test_every_dbt_unit_test_runs_and_passes(built: tuple[Path, Path]) -> None:
    results = json.loads((built[1] / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    unit = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results["results"]
            if r["unique_id"].startswith("unit_test.")}
    assert set(unit) == declared_unit_tests()
    assert len(unit) >= 11  # the yml files declare 11 today: none may silently vanish
    assert set(unit.values()) == {"pass"}


def test_production_build_leaves_unit_tests_out(built: tuple[Path, Path], tmp_path: Path) -> None:
    # a fresh warehouse built the way `make report` builds it: models and data tests, no unit tests
    db = tmp_path / "warehouse.duckdb"
    load_warehouse(built[0], db)
    assert build(db, tmp_path) is True
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    ids = [r["unique_id"] for r in results["results"]]
    assert not [i for i in ids if i.startswith("unit_test.")]
    assert "model.cx311.int_interactions" in ids
    assert {r["status"] for r in results["results"]} <= {"success", "pass", "no-op"}  # no-op: exposures


def test_parse_state_carries_over_to_a_new_output_folder(built: tuple[Path, Path], tmp_path: Path) -> None:
    assert PARSE_CACHE.is_file()
    run_dbt(["parse"], tmp_path / "warehouse.duckdb", tmp_path)
    log = (tmp_path / "dbt_logs" / "dbt.log").read_text(encoding="utf-8")
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled" in log
