"""The dbt project checked without dbt: one yml per mart beside its SQL; the BIA name key
of typed names against the macro's fixtures."""

from __future__ import annotations

import csv
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


def test_typed_bia_names_match_as_the_bia_key_macro_matches_the_extracts() -> None:
    """Names people type (--bia, bia_contacts.csv) never reach the warehouse, so Python keys
    them (pipeline.bia.batch.typed_name_key); they must match the seed exactly as the dbt macro
    bia_key matches the extracts' spellings: int_sr_bias's unit test bia_names_match_on_bia_key
    and this test read the same spellings and matches."""
    from pipeline.bia.batch import typed_name_key

    fixtures = DBT_DIR / "tests" / "fixtures"
    with (fixtures / "bia_key_spellings.csv").open(encoding="utf-8", newline="") as f:
        spellings = [row["bia"] for row in csv.DictReader(f)]
    with (fixtures / "bia_key_matches.csv").open(encoding="utf-8", newline="") as f:
        matches = {row["bia_raw"]: row["bia_name"] or None for row in csv.DictReader(f)}
    doc = yaml.safe_load((DBT_DIR / "models" / "intermediate" / "_intermediate__models.yml").read_text("utf-8"))
    test = next(t for t in doc["unit_tests"] if t["name"] == "bia_names_match_on_bia_key")
    seed = [row["bia_name"] for given in test["given"] if given["input"] == "ref('bias')" for row in given["rows"]]
    assert len(seed) == 3 and sorted(matches) == sorted(spellings)
    assert "  KENSINGTON   MARKET  bia " in spellings and "Kensington\tMarket" in spellings  # read as written
    by_key = {typed_name_key(name): name for name in seed}
    assert {spelling: by_key.get(typed_name_key(spelling)) for spelling in spellings} == matches
    assert sum(v is None for v in matches.values()) == 4  # a doubled BIA, 'bia' glued on, no hyphen, Nowhere
