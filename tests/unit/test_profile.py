"""pipeline/profile.py: the city profile, its overrides and its errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from pipeline.profile import ProfileError, load_profile

# sha256 of dbt_project/seeds/city_holidays.csv as it was committed before the profile
# existed (236 lines: the header and 235 days, 2015-2035), the Toronto calendar the
# warehouse counted business days with
TORONTO_SEED_SHA256 = "b56a8917717986bf376d465c867a4362934f0a270488bc8c66a6b4569ddaab75"


def _raw(tmp_path: Path, text: str) -> Path:
    (tmp_path / "reference").mkdir(parents=True, exist_ok=True)
    (tmp_path / "reference" / "city.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_torontos_calendar_comes_out_identical():
    rows = load_profile().holiday_calendar()
    text = "holiday_date,holiday_name\n" + "".join(f"{d.isoformat()},{n}\n" for d, n in rows)
    assert len(rows) == 235
    assert hashlib.sha256(text.encode()).hexdigest() == TORONTO_SEED_SHA256
    days = dict(rows)
    # Canada Day 2023 fell on a Saturday: observed Monday 3 July; Christmas 2022 (Sunday) on
    # Tuesday 27 December because Boxing Day took the Monday; the Civic Holiday is in
    assert days[dt.date(2023, 7, 3)] == "Canada Day (observed)"
    assert days[dt.date(2022, 12, 27)] == "Christmas Day (observed)"
    assert days[dt.date(2024, 8, 5)] == "Civic Holiday"


def test_the_default_is_torontos():
    p = load_profile()
    assert (p.city, p.service, p.division, p.timezone) == (
        "City of Toronto", "311 Toronto", "Customer Experience Division", "America/Toronto")
    assert p.standards == {"phone_service_level_seconds": 75, "phone_service_level_target": 0.8,
                           "short_abandon_seconds": 5, "email_acknowledgement_hours": 48}
    assert p.dbt_vars() == {"timezone": "America/Toronto", "service_level_seconds": 75,
                            "service_level_target": 0.8, "short_abandon_seconds": 5, "email_ack_hours": 48}
    assert p.settings()["surge_floor"] == 100 and p.settings()["per_residents"] == 1000


def test_an_override_replaces_whole_keys(tmp_path):
    raw = _raw(tmp_path, "city: City of Vancouver\ntimezone: America/Vancouver\n"
                         "holidays: {country: CA, subdivision: BC}\nwards: null\n")
    p = load_profile(raw)
    assert (p.city, p.service, p.timezone, p.wards) == ("City of Vancouver", "311 Toronto", "America/Vancouver", None)
    days = dict(p.holiday_calendar(2024, 2024))
    # British Columbia: BC Day (5 August 2024) and Truth and Reconciliation (30 September);
    # no Civic Holiday, which is Ontario's
    assert days[dt.date(2024, 8, 5)] == "British Columbia Day"
    assert dt.date(2024, 9, 30) in days
    assert "Civic Holiday" not in days.values()


@pytest.mark.parametrize(("text", "message"), [
    ("citty: X\n", "reference/city.yaml, line 1, key 'citty': unknown key (the keys are city, service,"),
    ("city: X\nstandards:\n  phone_service_level_seconds: sixty\n",
     "reference/city.yaml, line 3, key 'standards.phone_service_level_seconds': must be a whole number, not 'sixty'"),
    ("standards:\n  phone_service_level_seconds: 60\n",
     "reference/city.yaml, line 2, key 'standards': needs 'phone_service_level_target'"),
    ("timezone: America/Springfield\n",
     "reference/city.yaml, line 1, key 'timezone': 'America/Springfield' is not a time zone"),
    ("holidays: {country: XX}\n",
     "reference/city.yaml, line 1, key 'holidays.country': 'XX' is not a country the holidays library knows"),
    ("holidays: {country: CA, subdivision: ZZ}\n",
     "reference/city.yaml, line 1, key 'holidays.subdivision': 'ZZ' is not a subdivision of CA"),
    ("standards: {phone_service_level_seconds: 60, phone_service_level_target: 85, short_abandon_seconds: 10,"
     " email_acknowledgement_hours: 24}\n",
     "key 'standards.phone_service_level_target': must be a share between 0 and 1"),
    ("city: [a, b]\n", "reference/city.yaml, line 1, key 'city': must be text, not a list"),
    ("city: X\ncity: Y\n", "reference/city.yaml, line 2, key 'city': given twice"),
])
def test_bad_profiles_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ProfileError) as e:
        load_profile(_raw(tmp_path, text))
    assert message in str(e.value)


def _geojson(*properties: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": None} for p in properties]})


def test_boundaries_without_properties_and_population_that_does_not_match(tmp_path):
    raw = _raw(tmp_path, "wards: {boundaries: w.geojson, population: p.csv}\n")
    geojson = raw / "reference" / "w.geojson"
    geojson.write_text(_geojson({"ward_number": 1, "ward_name": "North"}, {"ward_number": 2}), encoding="utf-8")
    (raw / "reference" / "p.csv").write_text("ward_number,ward_name,population\n1,North,10\n", encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(raw)
    assert "line 1, key 'wards.boundaries': w.geojson: feature 2 has no ward_name property" in str(e.value)
    geojson.write_text(_geojson({"ward_number": 1, "ward_name": "North"}, {"ward_number": 2, "ward_name": "S"}),
                       encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(raw)
    assert ("key 'wards.population': p.csv does not match w.geojson (wards only in the population file: none; "
            "only in the boundaries: [2]; named differently: none)") in str(e.value)
