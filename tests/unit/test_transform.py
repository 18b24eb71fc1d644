"""Which builds a warehouse already has (pipeline/transform.py: up_to_date, start_build,
record_build): a full build covers every exposure; one exposure's build covers only itself."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.transform import ALL, record_build, start_build, up_to_date

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
