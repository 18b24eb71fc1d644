"""Tests of the synthetic demo-data generator (small scale, so the suite stays fast)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline.demo import dataset as demo

SCALE = 0.01
YEARS = (2023, 2024)
FILES = ("interactions", "service_requests", "kb_views")

EXPECTED_SCHEMAS = {
    "interactions": [
        ("interaction_id", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("interaction_type", pa.string()),
        ("topic", pa.string()),
        ("outcome", pa.string()),
        ("queue_seconds", pa.int32()),
        ("handle_seconds", pa.int32()),
        ("transferred", pa.bool_()),
        ("responded_at", pa.timestamp("us")),
        ("sr_id", pa.string()),
        ("language", pa.string()),
    ],
    "service_requests": [
        ("sr_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("closed_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("sr_type", pa.string()),
        ("division", pa.string()),
        ("section", pa.string()),
        ("ward", pa.string()),
        ("fsa", pa.string()),
        ("intersection_1", pa.string()),
        ("intersection_2", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("bia", pa.string()),
        ("channel", pa.string()),
    ],
    "kb_views": [
        ("date", pa.date32()),
        ("article_id", pa.string()),
        ("article_title", pa.string()),
        ("views", pa.int64()),
    ],
}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> tuple[Path, dict]:
    raw = tmp_path_factory.mktemp("raw")
    summary = demo.generate(raw, years=YEARS, scale=SCALE, seed=311)
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


def test_same_seed_is_byte_identical(demo_dir, tmp_path):
    raw, _ = demo_dir
    demo.generate(tmp_path, years=YEARS, scale=SCALE, seed=311)
    for year in YEARS:
        for name in FILES:
            assert _sha(_path(raw, name, year)) == _sha(_path(tmp_path, name, year))
    assert (raw / "DEMO_DATA.md").read_bytes() == (tmp_path / "DEMO_DATA.md").read_bytes()


def test_single_year_matches_and_other_seed_differs(demo_dir, tmp_path):
    raw, _ = demo_dir
    demo.generate(tmp_path / "one", years=(2024,), scale=SCALE, seed=311)
    assert _sha(_path(raw, "service_requests", 2024)) == _sha(
        _path(tmp_path / "one", "service_requests", 2024)
    )
    demo.generate(tmp_path / "other", years=(2024,), scale=SCALE, seed=312)
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
        assert set(pc.unique(it["channel"]).to_pylist()) <= set(demo.CHANNELS)
        assert set(pc.unique(sr["channel"]).to_pylist()) <= set(demo.CHANNELS)
        assert set(pc.unique(it["interaction_type"]).to_pylist()) == set(demo.INTERACTION_TYPES)
        assert set(pc.unique(sr["status"]).to_pylist()) <= set(demo.SR_STATUSES)
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
    ref = demo._load_reference()
    types = demo._type_table(ref)
    counts, total = demo._sr_type_counts(2024, 1.0, ref, types)
    assert counts.sum() == total == 463_000
    named = {t["sr_type"]: t["count"] for t in ref["figures"]["2024"]["top_service_requests"]}
    for name, count in named.items():
        assert counts[types["index"][name]] == count
    others = [c for n, c in zip(types["names"], counts, strict=True) if n not in named]
    assert max(others) < min(named.values())
    counts23, total23 = demo._sr_type_counts(2023, 1.0, ref, types)
    assert counts23.sum() == total23 == 487_000
    named23 = {t["sr_type"]: t["count"] for t in ref["figures"]["2023"]["top_service_requests"]}
    assert all(counts23[types["index"][n]] == c for n, c in named23.items())
    assert max(c for n, c in zip(types["names"], counts23, strict=True) if n not in named23) < min(
        named23.values()
    )
    new = ref["figures"]["2024"]["new_sr_types_2024"]
    assert all(counts23[types["index"][n]] == 0 for n in new)
    wards = demo._ward_counts(2023, 1.0, ref, 487_000)
    names = [w["ward_name"] for w in ref["wards"]]
    assert wards.sum() == 487_000
    assert wards[names.index("Etobicoke-Lakeshore")] == 29_536 == wards[:25].max()
    assert wards[names.index("Don Valley East")] == 11_232 == wards[:25].min()
    assert (wards[:25] >= 10_000).all()
    assert (demo._ward_counts(2024, 1.0, ref, 463_000)[:25] >= 10_000).all()
    ch24, ch23 = demo._channel_counts(2024, 1.0, ref), demo._channel_counts(2023, 1.0, ref)
    assert ch24.sum() == 1_290_000
    for name, change in ref["figures"]["2024"]["channel_change_vs_2023"].items():
        i = demo.CHANNELS.index(name)
        assert abs(ch24[i] / ch23[i] - 1 - change) < 0.001


def test_invalid_scale(tmp_path):
    with pytest.raises(ValueError):
        demo.generate(tmp_path, scale=0)
