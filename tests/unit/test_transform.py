"""Which builds a warehouse already has (pipeline/transform.py: up_to_date, start_build,
record_build): a full build covers every exposure; one exposure's build covers only itself.
And when the incremental row-level models can add new deliveries, or must be made again from
every row (rebuild_reason, prepare_row_models, record_row_models)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipeline.contract import DDL
from pipeline.transform import (
    ALL,
    ROW_MODELS_SCHEMA,
    prepare_row_models,
    rebuild_reason,
    record_build,
    record_row_models,
    start_build,
    up_to_date,
)

BIA = "bia_monthly_reports"


def test_a_full_build_covers_every_exposure_of_the_same_content(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert not up_to_date(con, ALL, "f1")  # nothing built yet
        start_build(con, ALL, "f1")
        record_build(con, ALL, "f1")
        assert up_to_date(con, ALL, "f1") and up_to_date(con, BIA, "f1")
        assert not up_to_date(con, ALL, "f2") and not up_to_date(con, BIA, "f2")  # new content


def test_one_exposure_built_for_new_content_leaves_the_full_build_to_do(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        start_build(con, ALL, "f1")
        record_build(con, ALL, "f1")
        start_build(con, BIA, "f2")  # new content: the full build of f1 no longer holds
        record_build(con, BIA, "f2")
        assert up_to_date(con, BIA, "f2")
        assert not up_to_date(con, ALL, "f2") and not up_to_date(con, ALL, "f1")
        assert con.execute("SELECT * FROM main.cx311_build").fetchall() == [(BIA, "f2")]
        start_build(con, ALL, "f2")  # the full build of f2 then covers both
        record_build(con, ALL, "f2")
        assert sorted(con.execute("SELECT * FROM main.cx311_build").fetchall()) == [(ALL, "f2"), (BIA, "f2")]


def test_a_build_that_starts_forgets_its_scope_until_it_succeeds(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        start_build(con, BIA, "f1")
        record_build(con, BIA, "f1")
        start_build(con, BIA, "f1")  # e.g. a rebuild that is then killed: not up to date
        assert not up_to_date(con, BIA, "f1")


def test_a_warehouse_from_before_scopes_is_built_again(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TABLE main.cx311_build (fingerprint VARCHAR)")
        con.execute("INSERT INTO main.cx311_build VALUES ('f1')")
        assert not up_to_date(con, ALL, "f1")
        assert [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_name = 'cx311_build' ORDER BY ordinal_position")
                .fetchall()] == ["scope", "fingerprint"]


A = ("2023/interactions_2023.parquet", "sha-a", 1)
B = ("2024/interactions_2024.parquet", "sha-b", 2)
C = ("2025/interactions_2025-01.parquet", "sha-c", 3)


def test_new_deliveries_after_the_built_ones_are_added() -> None:
    assert rebuild_reason([A, B], "p1", [A, B, C], "p1") is None
    assert rebuild_reason([A, B], "p1", [A, B], "p1") is None  # nothing new


def test_a_changed_history_is_rebuilt_and_says_why() -> None:
    assert rebuild_reason([], None, [A], "p1") == "no finished build of this warehouse is recorded"
    assert rebuild_reason([A, B], "p1", [A, B, C], "p2") == "the dbt project changed"  # not parts: an old warehouse
    bia = "reference/bia_boundaries.geojson"
    p1 = json.dumps({"dbt": "d", "service_standards": "s", "holidays": "h", "wards": "w", "references": {bia: "b"},
                     "settings": {"city": "City of Toronto", "phone_service_level_seconds": 75}})
    p2 = json.dumps({"dbt": "d", "service_standards": "s2", "holidays": "h2", "wards": "w", "references": {bia: "b"},
                     "settings": {"city": "City of Toronto", "phone_service_level_seconds": 60}})
    assert rebuild_reason([A, B], p1, [A, B, C], p2) == (
        "the service standards changed; the city profile's settings changed "
        "(phone_service_level_seconds 75 → 60); the city profile's holidays changed")
    # the wards (their population) and the BIA boundaries: changed, removed, added
    p3 = json.dumps({**json.loads(p1), "wards": "w2", "references": {bia: "b2"}})
    assert rebuild_reason([A, B], p1, [A, B, C], p3) == (
        f"the city profile's wards (names or population) changed; {bia} changed")
    none = "no BIA boundaries (city profile: bia_boundaries: null)"
    p4 = json.dumps({**json.loads(p1), "references": {none: None}})
    assert rebuild_reason([A, B], p1, [A, B], p4) == f"{bia} was removed"
    assert rebuild_reason([A, B], json.dumps({**json.loads(p1), "references": {bia: None}}), [A, B], p1) == (
        f"{bia} was added")
    assert rebuild_reason([A, B], "p1", [A, C], "p1") == "2024/interactions_2024.parquet is no longer delivered"
    assert rebuild_reason([A, B], "p1", [A, (B[0], "sha-b2", 2)], "p1") == "2024/interactions_2024.parquet changed"
    # a file delivered before an old one moves it down the order: its rows' ranks changed
    moved = [A, (C[0], C[1], 2), (B[0], B[1], 3)]
    assert rebuild_reason([A, B], "p1", moved, "p1") == "the delivery order changed at 2024/interactions_2024.parquet"


def _warehouse(con: duckdb.DuckDBPyConnection, deliveries: list[tuple[str, str, int]]) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(DDL["load_audit"])
    con.execute("DELETE FROM raw.load_audit")
    for file, sha, rank in deliveries:
        con.execute("INSERT INTO raw.load_audit VALUES (?, 'interactions', 'parquet', NULL, ?, 1, ?, 1, 1, 0, 0, 1, 0)",
                    [file, sha, rank])
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ROW_MODELS_SCHEMA}")
    # the row-level models as built from them: the interactions' days of A (rank 1) and B
    # (rank 2); the SRs of A only, as if B held no SR
    con.execute(f"CREATE TABLE IF NOT EXISTS {ROW_MODELS_SCHEMA}.int_interaction_days AS "
                "SELECT * FROM (VALUES (1), (2)) AS t(delivery_rank)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {ROW_MODELS_SCHEMA}.int_service_requests AS SELECT 1 AS delivery_rank")


def _row_models(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ?",
                       [ROW_MODELS_SCHEMA]).fetchone()[0]


def test_the_row_models_are_kept_for_new_deliveries_and_dropped_for_a_new_history(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _warehouse(con, [A, B])
        # a warehouse whose builds were never recorded (built before incremental models) starts over
        # made again: the build reads, and its data tests check, every row (above rank 0)
        assert prepare_row_models(con, "p1") == ("no finished build of this warehouse is recorded", {})
        assert _row_models(con) == 0
        _warehouse(con, [A, B])  # the build makes them again
        record_row_models(con, "p1")
        _warehouse(con, [A, B, C])  # one more delivery: kept, dbt adds its rows
        # kept: each model reads, and tests, the rows above the highest rank it holds
        assert prepare_row_models(con, "p1") == (None, {"int_service_requests": 1, "int_interaction_days": 2})
        assert _row_models(con) == 2
        con.execute(f"DROP TABLE {ROW_MODELS_SCHEMA}.int_service_requests")  # as after a build scoped to one exposure
        # not named: made from every row, all its rows tested
        assert prepare_row_models(con, "p1") == (None, {"int_interaction_days": 2})
        _warehouse(con, [A, B, C])
        record_row_models(con, "p1")
        _warehouse(con, [A, (B[0], "sha-b2", 2), C])  # an old file delivered again, changed
        assert prepare_row_models(con, "p1") == ("2024/interactions_2024.parquet changed", {})
        assert _row_models(con) == 0
        # until a build succeeds nothing is recorded: a failed rebuild is rebuilt next time, silently
        assert prepare_row_models(con, "p1") == (None, {})
        assert con.execute("SELECT count(*) FROM main.cx311_row_models").fetchone() == (0,)
