"""Tests of the synthetic demo-data generator (small scale, so the suite stays fast)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline.contract import CHANNELS, ENTITIES, INTERACTION_TYPES, SR_STATUSES
from pipeline.demo import ROW_GROUP_ROWS, generate
from pipeline.demo import dataset as demo
from pipeline.demo.calendar import Calendar, city_holidays, dst_gaps
from pipeline.demo.calibration import STORM_SRS, channel_counts, sr_type_counts, ward_counts
from pipeline.demo.reference import division_in, load_reference, type_table
from pipeline.demo.schema import ARROW_TYPES, by_channel
from pipeline.report.formatting import fmt_decimal

SCALE = 0.01
YEARS = (2023, 2024)
FILES = ("interactions", "service_requests", "kb_views")

# The expectation comes from the contract (columns, order) and the demo's type per kind; the
# hand-written pins below make sure a change of either still fails a test.
# every contract column but the optional due_at and updated_at, which the demo's system does not export
EXPECTED_SCHEMAS = {name: [(col.name, ARROW_TYPES[col.kind]) for col in ENTITIES[name]
                           if col.name not in ("due_at", "updated_at")]
                    for name in FILES}
PINNED_COLUMNS = {
    "interactions": {
        0: ("interaction_id", pa.string()),
        1: ("started_at", pa.timestamp("us")),
        6: ("queue_seconds", pa.int32()),
        8: ("transferred", pa.bool_()),
        11: ("language", pa.string()),
    },
    "service_requests": {
        0: ("sr_id", pa.string()),
        2: ("closed_at", pa.timestamp("us")),
        11: ("latitude", pa.float64()),
        14: ("channel", pa.string()),
    },
    "kb_views": {0: ("date", pa.date32()), 3: ("views", pa.int64())},
}
N_COLUMNS = {"interactions": 12, "service_requests": 15, "kb_views": 4}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> tuple[Path, dict]:
    raw = tmp_path_factory.mktemp("raw")
    summary = generate(raw, years=YEARS, scale=SCALE, seed=311)
    return raw, summary


def _path(raw: Path, name: str, year: int) -> Path:
    return raw / str(year) / f"{name}_{year}.parquet"


def _read(raw: Path, name: str, year: int) -> pa.Table:
    return pq.read_table(_path(raw, name, year))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_files_marker_and_summary(demo_dir):
    raw, summary = demo_dir
    marker = (raw / "DEMO_DATA.md").read_text(encoding="utf-8")
    assert "synthetic" in marker.lower() and "NOT real City data" in marker
    assert "seed 311" in marker and f"scale {SCALE}" in marker and "cx311" in marker
    for year in YEARS:
        for name in FILES:
            path = _path(raw, name, year)
            assert path.is_file()
            assert summary["files"][f"{year}/{path.name}"] == pq.read_metadata(path).num_rows > 0
    leftovers = [p for p in raw.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("name", FILES)
def test_exact_columns_and_types(demo_dir, name):
    raw, _ = demo_dir
    for year in YEARS:
        schema = pq.read_schema(_path(raw, name, year))
        assert [(f.name, f.type) for f in schema] == EXPECTED_SCHEMAS[name]
        assert len(schema) == N_COLUMNS[name]
        for i, (col, typ) in PINNED_COLUMNS[name].items():
            assert (schema[i].name, schema[i].type) == (col, typ)


def test_same_seed_is_byte_identical(demo_dir, tmp_path):
    raw, _ = demo_dir
    generate(tmp_path, years=YEARS, scale=SCALE, seed=311)
    for year in YEARS:
        for name in FILES:
            assert _sha(_path(raw, name, year)) == _sha(_path(tmp_path, name, year))
    assert (raw / "DEMO_DATA.md").read_bytes() == (tmp_path / "DEMO_DATA.md").read_bytes()


def test_single_year_matches_and_other_seed_differs(demo_dir, tmp_path):
    raw, _ = demo_dir
    generate(tmp_path / "one", years=(2024,), scale=SCALE, seed=311)
    assert _sha(_path(raw, "service_requests", 2024)) == _sha(
        _path(tmp_path / "one", "service_requests", 2024)
    )
    generate(tmp_path / "other", years=(2024,), scale=SCALE, seed=312)
    assert _sha(_path(raw, "service_requests", 2024)) != _sha(
        _path(tmp_path / "other", "service_requests", 2024)
    )


def test_ids_unique_and_sr_links_resolve(demo_dir):
    raw, _ = demo_dir
    for year in YEARS:
        it = _read(raw, "interactions", year)
        sr = _read(raw, "service_requests", year)
        assert pc.count_distinct(it["interaction_id"]).as_py() == it.num_rows
        assert pc.count_distinct(sr["sr_id"]).as_py() == sr.num_rows
        assert pc.all(pc.starts_with(it["interaction_id"], f"I{year}-")).as_py()
        assert pc.all(pc.starts_with(sr["sr_id"], f"SR{year}-")).as_py()
        linked = pc.drop_null(it["sr_id"])
        assert pc.all(pc.is_in(linked, value_set=sr["sr_id"])).as_py()
        types = it["interaction_type"]
        sr_rows = it.filter(pc.equal(types, "service_request"))
        assert sr_rows["sr_id"].null_count == 0
        assert (
            it.filter(pc.equal(types, "general_inquiry"))["sr_id"].null_count
            == pc.sum(pc.equal(types, "general_inquiry")).as_py()
        )


def test_allowed_values(demo_dir):
    raw, _ = demo_dir
    for year in YEARS:
        it = _read(raw, "interactions", year)
        sr = _read(raw, "service_requests", year)
        assert set(pc.unique(it["channel"]).to_pylist()) <= set(CHANNELS)
        assert set(pc.unique(sr["channel"]).to_pylist()) <= set(CHANNELS)
        assert set(pc.unique(it["interaction_type"]).to_pylist()) == set(INTERACTION_TYPES)
        assert set(pc.unique(sr["status"]).to_pylist()) <= set(SR_STATUSES)
        assert {"closed", "cancelled"} <= set(pc.unique(sr["status"]).to_pylist())
        assert sr["channel"].null_count == 0
        # outcome only on phone and live chat; queue seconds only on phone
        chat_or_phone = pc.is_in(it["channel"], value_set=pa.array(["phone", "live_chat"]))
        has_outcome = pc.is_valid(it["outcome"])
        assert pc.all(pc.equal(chat_or_phone, has_outcome)).as_py()
        assert set(pc.unique(pc.drop_null(it["outcome"])).to_pylist()) <= {"answered", "abandoned"}
        phone = pc.equal(it["channel"], "phone")
        assert pc.all(pc.equal(phone, pc.is_valid(it["queue_seconds"]))).as_py()
        assert pc.min(it["queue_seconds"]).as_py() >= 0
        assert pc.min(it["handle_seconds"]).as_py() >= 0
        answered = pc.equal(pc.fill_null(it["outcome"], ""), "answered")
        assert pc.all(pc.equal(answered, pc.is_valid(it["handle_seconds"]))).as_py()
        email = pc.equal(it["channel"], "email")
        assert pc.all(pc.or_(email, pc.is_null(it["responded_at"]))).as_py()
        # wards in "Name (NN)" form, or blank
        wards = pc.drop_null(pc.unique(sr["ward"])).to_pylist()
        assert len(wards) == 25
        assert all(w.endswith(")") and w[-4] == "(" for w in wards)
        lat, lon = pc.drop_null(sr["latitude"]), pc.drop_null(sr["longitude"])
        assert 43.58 <= pc.min(lat).as_py() and pc.max(lat).as_py() <= 43.86
        assert -79.64 <= pc.min(lon).as_py() and pc.max(lon).as_py() <= -79.12


def test_timestamps_in_year_and_ordered(demo_dir):
    raw, _ = demo_dir
    for year in YEARS:
        lo, hi = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
        it = _read(raw, "interactions", year)
        sr = _read(raw, "service_requests", year)
        kb = _read(raw, "kb_views", year)
        for col in (it["started_at"], sr["created_at"]):
            assert lo <= pc.min(col).as_py() and pc.max(col).as_py() < hi
        assert pc.min(kb["date"]).as_py() == lo.date()
        assert pc.max(kb["date"]).as_py() == dt.date(year, 12, 31)
        assert pc.min(kb["views"]).as_py() >= 0
        # no closed_at before created_at; responses after the e-mail arrived
        assert pc.sum(pc.less(sr["closed_at"], sr["created_at"])).as_py() in (None, 0)
        assert pc.sum(pc.less_equal(it["responded_at"], it["started_at"])).as_py() in (None, 0)
        open_rows = sr.filter(pc.is_in(sr["status"], value_set=pa.array(["initiated", "in_progress"])))
        assert open_rows["closed_at"].null_count == open_rows.num_rows
        closed_rows = sr.filter(pc.equal(sr["status"], "closed"))
        assert closed_rows["closed_at"].null_count == 0


def test_scale_multiplies_volumes(demo_dir):
    raw, _ = demo_dir
    it = _read(raw, "interactions", 2024)
    sr = _read(raw, "service_requests", 2024)
    assert it.num_rows == round(1_290_000 * SCALE)
    not_cancelled = pc.sum(pc.not_equal(sr["status"], "cancelled")).as_py()
    assert not_cancelled == round(463_000 * SCALE)
    sr23 = _read(raw, "service_requests", 2023)
    assert pc.sum(pc.not_equal(sr23["status"], "cancelled")).as_py() == round(487_000 * SCALE)


def test_calibration_helpers_exact():
    """The count allocation that the full-scale calibration relies on (cheap to check)."""
    ref = load_reference()
    types = type_table(ref)
    counts, total = sr_type_counts(2024, 1.0, ref, types)
    assert counts.sum() == total == 463_000
    named = {t["sr_type"]: t["count"] for t in ref["figures"]["2024"]["top_service_requests"]}
    for name, count in named.items():
        assert counts[types["index"][name]] == count
    others = [c for n, c in zip(types["names"], counts, strict=True) if n not in named]
    assert max(others) < min(named.values())
    counts23, total23 = sr_type_counts(2023, 1.0, ref, types)
    assert counts23.sum() == total23 == 487_000
    named23 = {t["sr_type"]: t["count"] for t in ref["figures"]["2023"]["top_service_requests"]}
    assert all(counts23[types["index"][n]] == c for n, c in named23.items())
    assert max(c for n, c in zip(types["names"], counts23, strict=True) if n not in named23) < min(
        named23.values()
    )
    new = ref["figures"]["2024"]["new_sr_types_2024"]
    assert all(counts23[types["index"][n]] == 0 for n in new)
    wards = ward_counts(2023, 1.0, ref, 487_000)
    names = [w["ward_name"] for w in ref["wards"]]
    assert wards.sum() == 487_000
    assert wards[names.index("Etobicoke-Lakeshore")] == 29_536 == wards[:25].max()
    assert wards[names.index("Don Valley East")] == 11_232 == wards[:25].min()
    assert (wards[:25] >= 10_000).all()
    assert (ward_counts(2024, 1.0, ref, 463_000)[:25] >= 10_000).all()
    ch24, ch23 = channel_counts(2024, 1.0, ref), channel_counts(2023, 1.0, ref)
    assert ch24.sum() == 1_290_000
    for name, change in ref["figures"]["2024"]["channel_change_vs_2023"].items():
        i = CHANNELS.index(name)
        assert abs(ch24[i] / ch23[i] - 1 - change) < 0.001


def test_transfers_and_languages_are_calibrated(demo_dir):
    """Illustrative shares (calibration.py): about 98% of answered calls handled without
    transfer, fewer transfers in 2024 than 2023, some blanks; mostly English, then Chinese."""
    raw, _ = demo_dir
    marker = (raw / "DEMO_DATA.md").read_text(encoding="utf-8")
    assert "Transfers and languages of service are illustrative only" in marker
    handled = {}
    for year in YEARS:
        it = _read(raw, "interactions", year)
        chat_or_phone = pc.is_in(it["channel"], value_set=pa.array(["phone", "live_chat"]))
        # transferred is recorded only for calls and chats, and blank for some of them
        assert it.filter(pc.invert(chat_or_phone))["transferred"].null_count == \
            it.num_rows - pc.sum(chat_or_phone).as_py()
        calls = it.filter(pc.and_(pc.equal(it["channel"], "phone"),
                                  pc.equal(pc.fill_null(it["outcome"], ""), "answered")))
        recorded = pc.drop_null(calls["transferred"])
        assert 0 < calls["transferred"].null_count < 0.03 * calls.num_rows
        handled[year] = 1 - pc.sum(recorded).as_py() / len(recorded)
        assert 0.97 <= handled[year] <= 0.99, (year, handled[year])
        languages = it["language"]
        assert 0 < languages.null_count < 0.03 * it.num_rows
        counts = pc.value_counts(pc.drop_null(languages)).to_pylist()
        ranked = sorted(counts, key=lambda c: -c["counts"])
        assert [c["values"] for c in ranked[:2]] == ["en", "zh"]
        assert 0.93 <= ranked[0]["counts"] / (it.num_rows - languages.null_count) <= 0.97
    assert handled[2024] > handled[2023]


def test_no_two_wards_share_a_rate_per_1000_residents_to_one_decimal():
    """The published spread is kept (Etobicoke-Lakeshore 29,536 the most and Don Valley East
    11,232 the fewest in 2023, every ward at least 10,000, the totals) and the other wards' rates
    per 1,000 residents, as the report rounds them, are all different."""
    ref = load_reference()
    population = [int(w["population"]) for w in ref["wards"]]
    for year, total in ((2023, 487_000), (2024, 463_000)):
        wards = ward_counts(year, 1.0, ref, total)
        assert wards.sum() == total and (wards[:25] >= 10_000).all()
        rates = [fmt_decimal(n * 1000 / p, 1) for n, p in zip(wards[:25], population, strict=True)]
        assert len(set(rates)) == 25, (year, sorted(rates))


CITY_DIVISIONS = {"311", "Environment, Climate & Forestry", "Fleet Services", "Municipal Licensing & Standards",
                  "Parks and Recreation", "Parks, Forestry & Recreation", "Solid Waste Management Services",
                  "Toronto Water", "Transportation Services", "Unknown"}


def test_divisions_are_the_citys_and_the_ones_in_force_in_the_year(demo_dir):
    ref = load_reference()
    types = type_table(ref)
    # the catalogue no longer splits "Parks, Forestry & Recreation" into "Parks" + a section
    assert set(types["division"]) <= CITY_DIVISIONS
    home = dict(zip(types["names"], zip(types["division"], types["section"], strict=True), strict=True))
    assert home["General Pruning"] == ("Parks, Forestry & Recreation", "Urban Forestry")
    assert home["Park Litter and Garbage"] == ("Parks and Recreation", "Parks")
    # 2023 and 2024 are before the 2025 reorganisation: one parks division, by its name then
    assert division_in("Parks and Recreation", 2024) == "Parks, Forestry & Recreation"
    assert division_in("Environment, Climate & Forestry", 2024) == "Parks, Forestry & Recreation"
    assert division_in("Parks and Recreation", 2025) == "Parks and Recreation"
    raw, _ = demo_dir
    for year in YEARS:
        divisions = set(pc.unique(_read(raw, "service_requests", year)["division"]).to_pylist())
        assert "Parks, Forestry & Recreation" in divisions and divisions <= CITY_DIVISIONS
        assert not divisions & {"Parks", "Environment", "Parks and Recreation", "Environment, Climate & Forestry"}


def test_storm_day_keeps_sewer_and_catch_basin_its_two_most_frequent_types():
    extra = {name: before + after for name, before, after in STORM_SRS}
    ranked = sorted(extra, key=extra.get, reverse=True)
    assert ranked[:2] == ["Sewer Service Line-Blocked", "Catch Basin - Blocked / Flooding"]
    # a normal July day adds about a dozen of a type at most: the margin stays above it
    assert extra[ranked[1]] - extra[ranked[2]] >= 30
    before = {name: b for name, b, _ in STORM_SRS}
    assert before["Sewer Service Line-Blocked"] > 700 and before["Catch Basin - Blocked / Flooding"] > 200


def test_demo_writes_bia_contacts_at_example_org_and_clean_removes_them(demo_dir, tmp_path):
    raw, _ = demo_dir
    path = raw / "reference" / "bia_contacts.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(load_reference()["bias"]) == 79
    assert all(r["email"].endswith("@example.org") and r["bia_name"] and r["contact_name"] for r in rows)
    assert len({r["email"] for r in rows}) == 79
    assert demo.demo_files(raw)["reference/bia_contacts.csv"] == _sha(path)
    # an analyst's own contacts file is never replaced, nor listed as demo data
    own = tmp_path / "own"
    (own / "reference").mkdir(parents=True)
    (own / "reference" / "bia_contacts.csv").write_text("bia_name,email,contact_name\n", encoding="utf-8")
    generate(own, years=(2024,), scale=SCALE, seed=311)
    assert (own / "reference" / "bia_contacts.csv").read_text(encoding="utf-8") == "bia_name,email,contact_name\n"
    assert "reference/bia_contacts.csv" not in demo.demo_files(own)
    # generated again, then removed with the rest (make clean), reference/ folder too
    again = tmp_path / "again"
    generate(again, years=(2024,), scale=SCALE, seed=311)
    generate(again, years=(2024,), scale=SCALE, seed=311)
    assert "reference/bia_contacts.csv" in demo.demo_files(again)
    removed, kept = demo.remove(again)
    assert "reference/bia_contacts.csv" in removed and kept == []
    assert not (again / "reference").exists()


def test_invalid_scale(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0)


def test_row_group_size_importable_where_the_benchmark_reads_it():
    assert demo.ROW_GROUP_ROWS == ROW_GROUP_ROWS == 122_880


def test_holidays_come_from_the_city_calendar_seed():
    # observed days included: New Year's Day 2023 (a Sunday) on Monday 2 January, Canada Day
    # (a Saturday) on Monday 3 July
    assert {dt.date(2023, 1, 2), dt.date(2023, 7, 3), dt.date(2023, 4, 7)} <= city_holidays(2023)
    assert len(city_holidays(2024)) == 10 and dt.date(2024, 7, 1) in city_holidays(2024)
    cal = Calendar(2023)
    assert cal.holiday[cal.index_of(dt.date(2023, 7, 3))]
    assert not cal.holiday[cal.index_of(dt.date(2023, 7, 4))]
    assert int(cal.holiday.sum()) == len(city_holidays(2023)) == 12
    with pytest.raises(ValueError, match="holiday calendar"):
        city_holidays(2014)


def test_dst_gap_from_the_time_zone_database():
    # 02:00-03:00 local on the second Sunday of March does not exist in Toronto
    us = dt.timedelta(microseconds=1)
    for year, day in ((2023, 12), (2024, 10), (2036, 9)):
        start = dt.datetime(year, 3, day, 2) - dt.datetime(1970, 1, 1)
        assert dst_gaps(year) == ((start // us, (start + dt.timedelta(hours=1)) // us),)


def test_per_channel_weights_need_every_channel_of_the_contract():
    assert list(by_channel({c: i for i, c in enumerate(CHANNELS)})) == list(range(len(CHANNELS)))
    with pytest.raises(ValueError):
        by_channel({"phone": 1.0})
