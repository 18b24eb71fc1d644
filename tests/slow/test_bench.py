"""The benchmark machinery (pipeline/bench.py) at a tiny scale: stages measured in their own
processes, the floor query agrees with the warehouse's marts and with plain row counts, and the
incremental reruns load only what changed. No timing thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks import bench
from pipeline.demo.dataset import ROW_GROUP_ROWS

SCALE = 0.002


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    # report rendering, BIA and the end-to-end rerun are slow and measured by `make bench`
    bench.run(SCALE, out, skip=("report", "bia", "e2e"), verbose=False)
    return json.loads((out / f"{bench.scale_name(SCALE)}.json").read_text(encoding="utf-8")), out


def test_every_stage_has_positive_wall_time_and_rss(result: tuple[dict, Path]) -> None:
    data, _ = result
    measured = [s for s in data["stages"] if s["status"] not in ("skipped", "not available yet", "reused")]
    names = {s["name"] for s in measured}
    assert {
        "generate demo data",
        "floor: DuckDB query on the Parquet files",
        "copy floor: DuckDB copies the Parquet files into tables",
        "load",
        "dbt build",
        "rerun, nothing new: load",
        "rerun, nothing new: dbt build",
        "one new month: load",
        "one new month: dbt build",
    } <= names
    for stage in measured:
        assert stage["status"] == "ok", stage
        assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0, stage
        assert stage["vs_floor"] > 0, stage
    skipped = {s["name"]: s["status"] for s in data["stages"] if "wall_s" not in s}
    assert skipped["key metrics"] == "skipped"
    assert data["floor"]["query_s"] > 0 and data["floor"]["peak_rss_mb"] > 0
    assert data["totals"]["load_dbt_cold"]["wall_s"] > 0
    assert data["copy_floor_s"] > 0 and data["totals"]["load_dbt_cold"]["vs_copy_floor"] > 0
    copy = next(s for s in measured if s["group"] == "copy_floor")
    assert copy["info"]["rows"] == sum(data["rows"].values())  # every generated row was copied
    assert {b["budget"] for b in data["budgets"]} >= {
        "BIA batch for one month",
        "load + dbt build (cold) vs floor",
        "rerun with nothing new: load + dbt build",
    }
    assert "| load |" in bench.table(data)


def test_reruns_load_only_what_changed(result: tuple[dict, Path]) -> None:
    data, _ = result
    stage = {s["name"]: s for s in data["stages"]}
    assert len(stage["load"]["info"]["files_loaded"]) == 6
    assert stage["dbt build"]["info"]["dbt_ran"] is True
    assert stage["rerun, nothing new: load"]["info"]["files_loaded"] == []
    assert stage["rerun, nothing new: load"]["info"]["files_skipped"] == 6
    assert stage["rerun, nothing new: dbt build"]["info"]["dbt_ran"] is False
    assert sorted(stage["one new month: load"]["info"]["files_loaded"]) == [
        "2025/interactions_2025-01.parquet",
        "2025/service_requests_2025-01.parquet",
    ]
    assert stage["one new month: load"]["info"]["files_skipped"] == 6
    assert stage["one new month: dbt build"]["info"]["dbt_ran"] is True


def test_floor_gives_the_marts_headline_figures(result: tuple[dict, Path]) -> None:
    data, out = result
    assert data["floor_matches_marts"], data["floor_vs_marts_differences"]
    raw = out / bench.scale_name(SCALE) / "raw"
    db = out / bench.scale_name(SCALE) / "work" / "warehouse.duckdb"
    floor = data["floor"]["headline"]
    marts = bench.headline_from_warehouse(db, [2023, 2024])
    assert bench.headlines_match(floor, marts) == []
    # hand check against the generated Parquet files, counted by DuckDB directly
    with duckdb.connect() as con:
        for year in (2023, 2024):
            folder = raw / str(year)
            n_int = con.execute(
                f"SELECT count(*) FROM '{folder}/interactions_{year}.parquet' WHERE year(started_at) = {year}"
            ).fetchone()[0]
            n_sr = con.execute(
                f"SELECT count(*) FILTER (WHERE status <> 'cancelled'), count(*) FILTER (WHERE status = 'cancelled') "
                f"FROM '{folder}/service_requests_{year}.parquet' WHERE year(created_at) = {year}"
            ).fetchone()
            phone = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE outcome = 'answered') "
                f"FROM '{folder}/interactions_{year}.parquet' "
                f"WHERE channel = 'phone' AND outcome IN ('answered', 'abandoned')"
            ).fetchone()
            y = floor[str(year)]
            assert n_int > 0 and n_sr[0] > 0
            assert y["interactions"]["total"] == n_int == marts[str(year)]["interactions"]["total"]
            assert sum(y["interactions"]["by_channel"].values()) == n_int
            assert sum(y["interactions"]["by_type"].values()) == n_int
            assert (y["service_requests"]["total"], y["service_requests"]["cancelled"]) == n_sr
            assert (y["phone"]["offered"], y["phone"]["answered"]) == phone
            assert y["service_requests"]["top_types"][0][1] >= y["service_requests"]["top_types"][-1][1]


def test_generated_data_is_reused_and_extra_month_is_not_left_behind(result: tuple[dict, Path],
                                                                    tmp_path: Path) -> None:
    _, out = result
    base = out / bench.scale_name(SCALE)
    assert bench.demo_matches(base / "raw", SCALE, 311)
    assert not bench.demo_matches(base / "raw", SCALE * 2, 311)
    # a set written with larger row groups (an older generator) is generated again
    old = tmp_path / "raw"
    bench.link_tree(base / "raw", old)
    first = old / "2023" / "interactions_2023.parquet"
    table = pq.read_table(first)
    big = pa.concat_tables([table] * (ROW_GROUP_ROWS // table.num_rows + 1))  # > ROW_GROUP_ROWS rows
    first.unlink()  # a hard link: write a new file, leave the shared one alone
    pq.write_table(big, first, row_group_size=big.num_rows)
    assert pq.read_metadata(first).row_group(0).num_rows > ROW_GROUP_ROWS
    assert not bench.demo_matches(old, SCALE, 311)
    assert not (base / "raw" / "2025").exists()
    assert not (base / "raw_plus_month").exists()


def test_extra_month_shifts_a_week_with_new_ids(tmp_path: Path, result: tuple[dict, Path]) -> None:
    _, out = result
    plus = tmp_path / "raw"
    bench.link_tree(out / bench.scale_name(SCALE) / "raw", plus)
    files = bench.write_extra_month(plus, days=3)
    with duckdb.connect() as con:
        lo, hi, ids = con.execute(
            f"SELECT min(started_at), max(started_at), count(*) FILTER (WHERE interaction_id LIKE '%2024-%') "
            f"FROM '{files[0]}'"
        ).fetchone()
        assert str(lo) >= "2025-01-01" and str(hi) < "2025-01-04" and ids == 0
        created = con.execute(f"SELECT min(created_at), max(created_at) FROM '{files[1]}'").fetchone()
        assert str(created[0]) >= "2025-01-01" and str(created[1]) < "2025-01-04"
