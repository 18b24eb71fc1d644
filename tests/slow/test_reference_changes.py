"""A changed reference file reaches the figures (docs/data-contract.md, "Reference files"): the
BIA boundaries, the city profile's ward population, the service standards and the profile's
settings, each changed after a build: what depends on it is assigned again, the console says
so, and the incremental row-level models are made again. Five real dbt builds of the
hand-made extracts, so this runs in the slow suite. (The loader's side of the BIA boundaries:
tests/unit/test_ingest.py; bia_contacts.csv: tests/integration/test_send_faults.py.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.paths import DATA_DIR
from tests.integration.extracts import write_extracts

SQUARE = [[[-79.5, 43.6], [-79.4, 43.6], [-79.4, 43.7], [-79.5, 43.7], [-79.5, 43.6]]]
# one SR with coordinates inside the square and no BIA: the boundaries give it one
GEO = "sr_id,created_at,closed_at,status,sr_type,division,latitude,longitude,bia\n" \
      "G1,2024-07-10 10:00:00,,New,Road - Pot hole,Transportation Services,43.65,-79.45,\n"
PROFILE = """\
wards: {boundaries: wards.geojson, population: wards.csv}
standards: {phone_service_level_seconds: 75, phone_service_level_target: 0.80, short_abandon_seconds: 5,
            email_acknowledgement_hours: 48}
"""


def boundaries(name: str) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"bia_name": name}, "geometry": {"type": "Polygon", "coordinates": SQUARE}}]})


def one(output: Path, sql: str) -> tuple:
    with duckdb.connect(str(output / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchone()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw, output) after a first load and build with every kind of reference file."""
    raw, output = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("out")
    write_extracts(raw)
    (raw / "2024" / "service_requests_geo.csv").write_text(GEO, encoding="utf-8")
    ref = raw / "reference"
    ref.mkdir()
    (ref / "bia_boundaries.geojson").write_text(boundaries("Bloor Annex BIA"), encoding="utf-8")
    shutil.copyfile(DATA_DIR / "toronto_wards_25.geojson", ref / "wards.geojson")
    shutil.copyfile(DATA_DIR / "toronto_wards_population.csv", ref / "wards.csv")
    (ref / "city.yaml").write_text(PROFILE, encoding="utf-8")
    (ref / "service_standards.csv").write_text("sr_type,target_days,day_basis\nRoad - Pot hole,10,calendar\n",
                                               encoding="utf-8")
    assert main(["load", "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]) == 0
    return raw, output


def reload(built: tuple[Path, Path], capsys) -> str:
    raw, output = built
    capsys.readouterr()
    assert main(["load", "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]) == 0
    said = capsys.readouterr().err
    # the incremental row-level models were made again from every row, not added to
    assert "every row is processed again: " in said
    return said


def test_bia_boundaries(built, capsys) -> None:
    raw, output = built
    bia = "SELECT bia FROM intermediate.int_service_requests WHERE sr_id = 'G1'"
    in_month = ("SELECT service_requests FROM marts.mart_bia_monthly WHERE bia_name = '{}' "
                "AND report_month = DATE '2024-07-01'")
    assert one(output, bia) == ("Bloor Annex BIA",)
    assert one(output, in_month.format("Bloor Annex BIA")) == (1,)
    # the polygon now belongs to Kensington Market
    (raw / "reference" / "bia_boundaries.geojson").write_text(boundaries("Kensington Market BIA"), encoding="utf-8")
    said = reload(built, capsys)
    assert ("note: reference/bia_boundaries.geojson: changed: every service-request file is read again (a blank "
            "BIA is filled from the BIA boundaries)") in said
    assert "every row is processed again: reference/bia_boundaries.geojson changed" in said
    assert one(output, bia) == ("Kensington Market BIA",)
    assert one(output, in_month.format("Kensington Market BIA")) == (1,)
    assert one(output, in_month.format("Bloor Annex BIA")) == (0,)


def test_ward_population(built, capsys) -> None:
    raw, output = built
    # Etobicoke Centre (ward 2) has two 2024 SRs counted (S1, S2; S5 is cancelled): 2 per
    # 117,200 residents, 2 × 1,000 / 117,200 per 1,000
    per_1000 = "SELECT per_1000_residents FROM marts.mart_sr_by_ward WHERE created_year = 2024 AND ward_number = 2"
    assert one(output, per_1000)[0] == pytest.approx(2000 / 117_200, rel=1e-12)
    population = raw / "reference" / "wards.csv"
    text = population.read_text(encoding="utf-8")
    assert "2,Etobicoke Centre,117200" in text
    population.write_text(text.replace("2,Etobicoke Centre,117200", "2,Etobicoke Centre,58600"), encoding="utf-8")
    said = reload(built, capsys)
    assert "every row is processed again: the city profile's wards (names or population) changed" in said
    assert one(output, per_1000)[0] == pytest.approx(2000 / 58_600, rel=1e-12)


def test_service_standards(built, capsys) -> None:
    raw, output = built
    # S2, a pot hole, created 28 June and closed 3 July: within 10 calendar days (due 8 July),
    # not within 1 (due 29 June)
    on_time = "SELECT due_date, is_on_time FROM intermediate.int_service_requests WHERE sr_id = 'S2'"
    assert tuple(map(str, one(output, on_time))) == ("2024-07-08", "True")
    (raw / "reference" / "service_standards.csv").write_text(
        "sr_type,target_days,day_basis\nRoad - Pot hole,1,calendar\n", encoding="utf-8")
    said = reload(built, capsys)
    assert "every row is processed again: the service standards changed" in said
    assert tuple(map(str, one(output, on_time))) == ("2024-06-29", "False")


def test_city_profile(built, capsys) -> None:
    raw, output = built
    # 2024's answered calls queued 30 s (i1), 75 s (i2) and 76 s (i3): 2 within 75 s, 1 within 60 s
    within = ("SELECT answered_within_threshold FROM marts.mart_phone_service_level "
              "WHERE grain = 'year' AND period_year = 2024")
    assert one(output, within) == (2,)
    profile = raw / "reference" / "city.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("phone_service_level_seconds: 75",
                                                                   "phone_service_level_seconds: 60"),
                       encoding="utf-8")
    said = reload(built, capsys)
    assert ("every row is processed again: the city profile's settings changed "
            "(phone_service_level_seconds 75 → 60)") in said
    assert one(output, within) == (1,)
