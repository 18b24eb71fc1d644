"""Tests for pipeline.transform: production builds leave dbt's unit tests out, the test suite
runs them (on the session's built warehouse), dbt's parse state carries over to a new
output folder, and dbt's process started ahead (transform.DbtChild) builds as a fresh one."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.paths import DBT_DIR
from pipeline.profile import dbt_vars
from pipeline.transform import PARSE_CACHE, DbtChild, TransformError, build, city_settings, run_dbt
from tests.integration.extracts import write_extracts
from tests.support.polling import wait_until


def declared_unit_tests() -> set[str]:
    names = set()
    for path in (DBT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {t["name"] for t in doc.get("unit_tests", [])}
    return names


@pytest.fixture(scope="module")
def unit_run(pipeline_build: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """dbt's unit tests, run on a copy of the built warehouse (they need its tables' column
    types) in a new output folder, with dbt's debug log: that run also shows whether the parse
    state kept by the session's build carried over to the new folder. The session's build
    (`report`) made only the annual report's models: a full build first makes the rest."""
    work = tmp_path_factory.mktemp("unit_tests")
    shutil.copyfile(pipeline_build[1] / "warehouse.duckdb", work / "warehouse.duckdb")
    assert PARSE_CACHE.is_file()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_LOG_LEVEL_FILE", "none")
        assert build(work / "warehouse.duckdb", work)  # the BIA reports' models
        mp.setenv("DBT_LOG_LEVEL_FILE", "debug")  # the parse messages are debug-level
        run_dbt(["test", "--select", "test_type:unit"], work / "warehouse.duckdb", work)
    results = json.loads((work / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    return {"results": {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results["results"]
                        if r["unique_id"].startswith("unit_test.")},
            "log": (work / "dbt_logs" / "dbt.log").read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def unit_results(unit_run: dict) -> dict[str, str]:
    return unit_run["results"]


def test_every_dbt_unit_test_runs_and_passes(unit_results: dict[str, str]) -> None:
    assert set(unit_results) == declared_unit_tests()
    assert len(unit_results) >= 11  # the yml files declare 11 today: none may silently vanish
    assert set(unit_results.values()) == {"pass"}


def test_production_build_leaves_unit_tests_out(pipeline_build: tuple[Path, Path]) -> None:
    # the session's warehouse was built the way `make report` builds it
    path = pipeline_build[1] / "production_run_results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    ids = [r["unique_id"] for r in results["results"]]
    assert not [i for i in ids if i.startswith("unit_test.")]
    assert "model.cx311.int_interactions" in ids
    assert {r["status"] for r in results["results"]} <= {"success", "pass", "no-op"}  # no-op: exposures


def test_parse_state_carries_over_to_a_new_output_folder(unit_run: dict) -> None:
    assert "Unable to do partial parsing" not in unit_run["log"]
    assert "Partial parsing enabled" in unit_run["log"]


def test_every_mart_column_is_described(pipeline_build: tuple[Path, Path]) -> None:
    import duckdb

    docs = [yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted((DBT_DIR / "models" / "marts").glob("mart_*.yml"))]  # one per mart
    described = {(m["name"], c["name"]) for doc in docs for m in doc["models"] for c in m.get("columns", [])
                 if (c.get("description") or "").strip()}
    with duckdb.connect(str(pipeline_build[1] / "warehouse.duckdb"), read_only=True) as con:
        built = set(con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = 'marts'").fetchall())
    assert len(built) > 100  # every mart's columns were found
    assert sorted(built - described) == []


def test_docs_open_on_the_project_overview() -> None:
    text = (DBT_DIR / "models" / "overview.md").read_text(encoding="utf-8")
    assert text.startswith("{% docs __overview__ %}") and text.rstrip().endswith("{% enddocs %}")


def test_latest_delivery_reads_the_rows_once_when_no_id_repeats(pipeline_build: tuple[Path, Path]) -> None:
    # The hand-made extracts deliver one interaction id twice and every SR id once, so the
    # session's build compiled int_interactions in the full form (rank the repeated ids: a
    # semi join on them) and int_service_requests in the one-read form (no join on them).
    import duckdb

    output = pipeline_build[1]
    with duckdb.connect(str(output / "warehouse.duckdb"), read_only=True) as con:
        listed = dict(con.execute("SELECT entity, count(*) FROM raw.repeated_ids GROUP BY 1").fetchall())
    assert listed == {"interactions": 1}
    run = output / "dbt_target" / "run" / "cx311" / "models" / "intermediate"
    assert "semi join repeated_ids" in (run / "int_interactions.sql").read_text(encoding="utf-8")
    assert "repeated_ids using" not in (run / "int_service_requests.sql").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- dbt's own nodes on DuckDB
# The project's materializations (dbt_project/materializations/duckdb.sql) and the child
# process dbt runs in (pipeline/dbt_process.py), on a copy of the session's warehouse.

@pytest.fixture
def built_copy(pipeline_build: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the session's built warehouse in a new output folder."""
    shutil.copyfile(pipeline_build[1] / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return tmp_path / "warehouse.duckdb"


def _rows(db: Path, query: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def _kind(db: Path, schema: str, name: str) -> list[str]:
    return [kind for (kind,) in _rows(db, f"""
        select 'table' from duckdb_tables() where schema_name = '{schema}' and table_name = '{name}'
        union all
        select 'view' from duckdb_views() where schema_name = '{schema}' and view_name = '{name}'""")]


def test_a_failing_data_test_fails_the_build_and_is_recorded(built_copy: Path) -> None:
    import duckdb

    with duckdb.connect(str(built_copy)) as con:  # one service standard twice: one sr_type repeats
        con.execute("INSERT INTO marts.mart_service_standards SELECT * FROM marts.mart_service_standards LIMIT 1")
    seen: list[tuple[str, int, int]] = []
    with pytest.raises(TransformError, match="FAIL 1 checks_mart_service_standards") as failed:
        run_dbt(["test", "--select", "mart_service_standards", "--exclude-resource-type", "unit_test"],
                built_copy, built_copy.parent, progress=lambda name, done, total: seen.append((name, done, total)))
    # the mart's one data test holds two checks: unique sr_type finds the one repeated value
    # (1 failing check), not_null none; the failing check is named with its count
    assert "checks_mart_service_standards: unique(sr_type) fails for 1 values" in str(failed.value)
    assert "not_null(sr_type) fails" not in str(failed.value)
    results = json.loads((built_copy.parent / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    status = {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results["results"]
              if r["unique_id"].startswith("test.")}
    assert status == {"checks_mart_service_standards": ("fail", 1)}
    assert seen == [("checks_mart_service_standards", 1, 1)]  # progress: the one test, counted once
    assert not (built_copy.parent / "dbt_target" / "manifest.json").exists()  # --no-write-json


def test_each_kind_of_check_finds_what_it_checks(built_copy: Path) -> None:
    # One change per kind of check (dbt_project/tests/generic/checks.sql) in five marts;
    # each mart's one `checks` test fails by as many checks as were broken, and the output
    # names each failing check with its count.
    import duckdb

    with duckdb.connect(str(built_copy)) as con:
        # a repeated row (1 repeated sr_type value) and a row without sr_type (1 null row)
        con.execute("INSERT INTO marts.mart_service_standards SELECT * FROM marts.mart_service_standards LIMIT 1")
        con.execute("INSERT INTO marts.mart_service_standards SELECT * REPLACE (NULL AS sr_type) "
                    "FROM marts.mart_service_standards LIMIT 1")
        # one division's share of 2024 up by 0.5: that year's shares add up to 1.5 (1 group)
        con.execute("UPDATE marts.mart_sr_by_division SET share = share + 0.5 WHERE created_year = 2024 "
                    "AND division = (SELECT min(division) FROM marts.mart_sr_by_division WHERE created_year = 2024)")
        # a ward number the city's wards do not hold (1 value), name kept: the expression holds
        con.execute("UPDATE marts.mart_sr_by_ward SET ward_number = 99 WHERE ward_number = 1")
        # one row of an unlisted grain (1 row), and one row twice (1 repeated combination)
        con.execute("UPDATE marts.mart_transfers SET grain = 'week' WHERE grain = 'month' AND channel = 'phone' "
                    "AND period_start = (SELECT min(period_start) FROM marts.mart_transfers WHERE grain = 'month')")
        con.execute("INSERT INTO marts.mart_transfers SELECT * FROM marts.mart_transfers WHERE grain = 'year' "
                    "AND channel = 'all' AND period_year = 2024")
        # the first two days with one more call offered than answered + abandoned (2 rows)
        con.execute("UPDATE marts.mart_phone_service_level SET offered = offered + 1 WHERE grain = 'day' "
                    "AND period_start IN (SELECT period_start FROM marts.mart_phone_service_level "
                    "WHERE grain = 'day' ORDER BY period_start LIMIT 2)")
        ward_rows = con.execute("SELECT count(*) FROM marts.mart_sr_by_ward WHERE ward_number = 99").fetchone()[0]
    assert ward_rows == 2  # ward 1 in 2023 and in 2024: one value, 99, however many rows hold it
    marts = ["mart_service_standards", "mart_sr_by_division", "mart_sr_by_ward", "mart_transfers",
             "mart_phone_service_level"]
    with pytest.raises(TransformError) as failed:
        run_dbt(["test", "--select", *marts, "--exclude-resource-type", "unit_test"], built_copy, built_copy.parent)
    said = str(failed.value)
    for line in ["checks_mart_service_standards: not_null(sr_type) fails for 1 rows",
                 "checks_mart_service_standards: unique(sr_type) fails for 1 values",
                 "checks_mart_sr_by_division: sums_to_one(share) fails for 1 groups",
                 "checks_mart_sr_by_ward: relationships(ward_number) fails for 1 values",
                 "checks_mart_transfers: accepted_values(grain) fails for 1 rows",
                 "checks_mart_transfers: unique_combination(grain, period_start, channel) fails for 1 combinations",
                 "checks_mart_phone_service_level: expression(answered + abandoned = offered) fails for 2 rows"]:
        assert line in said
    results = json.loads((built_copy.parent / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    failures = {r["unique_id"].split(".")[2]: r["failures"] for r in results["results"]
                if r["unique_id"].startswith("test.")}
    assert failures == {"checks_mart_service_standards": 2, "checks_mart_sr_by_division": 1,
                        "checks_mart_sr_by_ward": 1, "checks_mart_transfers": 2,
                        "checks_mart_phone_service_level": 1}


def test_a_model_changing_kind_replaces_the_relation(built_copy: Path) -> None:
    # a mart that was a view (an older project) becomes the table it is now; a view model
    # left as a table becomes the view it is now: rows unchanged either way
    import duckdb

    standards = _rows(built_copy, "SELECT * FROM marts.mart_service_standards ORDER BY ALL")
    interactions = _rows(built_copy, "SELECT count(*) FROM staging.stg_raw__interactions")[0][0]
    assert len(standards) > 3 and interactions > 0
    with duckdb.connect(str(built_copy)) as con:
        con.execute("DROP TABLE marts.mart_service_standards")
        con.execute("CREATE VIEW marts.mart_service_standards AS SELECT 1 AS sr_type")
        con.execute("DROP VIEW staging.stg_raw__interactions")
        con.execute("CREATE TABLE staging.stg_raw__interactions AS SELECT 1 AS interaction_id")
    output = run_dbt(["build", "--select", "mart_service_standards", "stg_raw__interactions",
                      "--exclude-resource-type", "unit_test"], built_copy, built_copy.parent)
    assert "Completed successfully" in output
    assert _kind(built_copy, "marts", "mart_service_standards") == ["table"]
    assert _kind(built_copy, "staging", "stg_raw__interactions") == ["view"]
    assert _rows(built_copy, "SELECT * FROM marts.mart_service_standards ORDER BY ALL") == standards
    assert _rows(built_copy, "SELECT count(*) FROM staging.stg_raw__interactions")[0][0] == interactions
    # dbt's events at info level and above only: not its debug events (each query's SQL)
    assert "OK created sql table model marts.mart_service_standards" in output
    assert "create or replace" not in output


def test_dbt_process_closes_the_warehouse_and_its_log_before_it_exits(built_copy: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # dbt's process ends without Python's teardown (dbt_process.finish): DuckDB is closed first
    # (its checkpoint: no write-ahead log is left beside the file) and so is dbt's log file
    import duckdb

    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    with duckdb.connect(str(built_copy)) as con:
        con.execute("DROP TABLE marts.mart_service_standards")
    output = run_dbt(["build", "--select", "mart_service_standards", "--exclude-resource-type", "unit_test"],
                     built_copy, built_copy.parent)
    assert "Completed successfully" in output
    assert not built_copy.with_name(built_copy.name + ".wal").exists()
    assert _kind(built_copy, "marts", "mart_service_standards") == ["table"]
    log = (built_copy.parent / "dbt_logs" / "dbt.log").read_text(encoding="utf-8").splitlines()
    assert any("Command `cli build` succeeded" in line for line in log[-3:])


# --------------------------------------------------------------------------- dbt's process started ahead
# transform.DbtChild: started while the load runs, it imports dbt and parses the project, then
# waits for run_dbt's command on stdin (the protocol: pipeline/dbt_process.py's doc). Real dbt.

PHONE = ["build", "--select", "mart_phone_service_level", "--exclude-resource-type", "unit_test"]


def _waiting(process: subprocess.Popen) -> bool:
    """The process is blocked reading its stdin: its import and its parse are over."""
    try:
        wchan = Path(f"/proc/{process.pid}/wchan").read_text()  # the kernel function it sleeps in
    except OSError:
        return True
    return "pipe_read" in wchan or "pipe_wait" in wchan or process.poll() is not None


def test_a_child_started_ahead_parses_beside_the_load_and_builds_as_a_fresh_one(built_copy: Path,
                                                                                 tmp_path: Path) -> None:
    import duckdb

    fresh = tmp_path / "fresh" / "warehouse.duckdb"
    fresh.parent.mkdir()
    shutil.copyfile(built_copy, fresh)
    before = _rows(built_copy, "SELECT * FROM marts.mart_phone_service_level ORDER BY ALL")
    assert len(before) > 3
    for db in (built_copy, fresh):
        with duckdb.connect(str(db)) as con:
            con.execute("DROP TABLE marts.mart_phone_service_level")
    vars_ = dbt_vars(city_settings(built_copy))
    with DbtChild(built_copy, built_copy.parent) as child:
        # the warehouse is held for writing, as the load holds it, while dbt imports and parses
        with duckdb.connect(str(built_copy)) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("CREATE TABLE main.held (x INTEGER)")
            child.start(vars_)
            assert child.process is not None
            wait_until(lambda: _waiting(child.process), 120, "dbt's process to import dbt and parse")
            assert child.process.poll() is None
            con.execute("ROLLBACK")
        ahead = run_dbt(PHONE, built_copy, built_copy.parent, child=child)
    assert child.parsed_ahead is True  # its parse, made with the warehouse held, was used
    spawned = run_dbt(PHONE, fresh, fresh.parent)
    # both made the mart again, with the rows the session's build gave it
    for output in (ahead, spawned):
        assert "OK created sql table model marts.mart_phone_service_level" in output
        assert "Completed successfully" in output
    assert _rows(built_copy, "SELECT * FROM marts.mart_phone_service_level ORDER BY ALL") == before
    assert _rows(fresh, "SELECT * FROM marts.mart_phone_service_level ORDER BY ALL") == before
    assert (built_copy.parent / "dbt_target" / "run_results.json").is_file()


def test_a_child_that_parsed_with_other_values_parses_again(built_copy: Path) -> None:
    import duckdb

    # the child parses with the values known before the load (the session's profile: a target
    # of 0.8); the load then records another profile's 0.65, which the build must count with
    was = dbt_vars(city_settings(built_copy))
    assert was["service_level_target"] == 0.8
    with DbtChild(built_copy, built_copy.parent) as child:
        child.start(was)
        with duckdb.connect(str(built_copy)) as con:
            con.execute("UPDATE raw.city_settings SET value = '0.65' WHERE name = 'phone_service_level_target'")
        output = run_dbt(PHONE, built_copy, built_copy.parent, child=child)
    assert child.parsed_ahead is False
    assert "Completed successfully" in output
    # every period's target (year, months, days) is the new value
    assert _rows(built_copy, "SELECT DISTINCT target FROM marts.mart_phone_service_level") == [(0.65,)]


def test_a_child_not_used_ends(built_copy: Path) -> None:
    vars_ = dbt_vars(city_settings(built_copy))
    # told nothing (its stdin closed once it waits): it exits by itself, status 0
    with DbtChild(built_copy, built_copy.parent) as child:
        child.start(vars_)
        assert child.process is not None and child.process.stdin is not None
        wait_until(lambda: _waiting(child.process), 120, "dbt's process to import dbt and parse")
        child.process.stdin.close()
        assert child.process.wait(30) == 0
    # left without a command (nothing to build): killed at once, at the end of the block,
    # in the middle of its import
    with DbtChild(built_copy, built_copy.parent) as child:
        child.start(vars_)
        process = child.process
        assert process is not None and process.poll() is None
    assert process.returncode == -signal.SIGKILL
    # a child never started: run_dbt spawns one, as without it
    with DbtChild(built_copy, built_copy.parent) as child:
        output = run_dbt(PHONE, built_copy, built_copy.parent, child=child)
    assert child.process is None and child.parsed_ahead is None
    assert "Completed successfully" in output


def test_the_load_says_when_it_is_about_to_load(tmp_path: Path) -> None:
    # the hand-made extracts: the first load has files to load (one call), the second none
    from pipeline.ingest import load

    raw, db = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    write_extracts(raw)
    calls: list[int] = []
    first = load(raw, db, max_reject_rate=0.5, loading=lambda: calls.append(1))
    assert calls == [1] and first.files_loaded
    again = load(raw, db, max_reject_rate=0.5, loading=lambda: calls.append(2))
    assert calls == [1] and not again.files_loaded
