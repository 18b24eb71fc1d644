"""The dbt project's layout (no dbt run): one yml per mart, beside its SQL."""

from __future__ import annotations

from pathlib import Path

import yaml

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MARTS = DBT_DIR / "models" / "marts"


def test_every_mart_has_its_own_yml_with_its_unit_tests() -> None:
    sql = sorted(p.stem for p in MARTS.glob("mart_*.sql"))
    yml = sorted(p.stem for p in MARTS.glob("mart_*.yml"))
    assert len(sql) > 20 and sql == yml
    for name in sql:
        doc = yaml.safe_load((MARTS / f"{name}.yml").read_text(encoding="utf-8"))
        assert [m["name"] for m in doc["models"]] == [name], name
        assert {t["model"] for t in doc.get("unit_tests", [])} <= {name}, name
    # besides the marts' own files, only the exposures
    assert sorted(p.name for p in MARTS.glob("*.yml") if not p.name.startswith("mart_")) == ["_exposures.yml"]
