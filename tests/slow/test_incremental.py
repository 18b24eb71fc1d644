"""The row-level models are incremental (dbt_project/macros/engine.sql, pipeline/transform.py):
a new month's files are added to what the last build made, and the result is the same as a
build from scratch; a changed old file makes the build start over, and the console says why.
Four real dbt builds of the hand-made extracts, so this runs in the slow suite."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from pipeline.cli import main
from tests.integration.extracts import SERVICE_REQUESTS_2024, write_extracts

# January 2025: a new interaction (k1), and i10 delivered again with another channel (it was
# mobile-app in interactions_2024.csv): the later delivery wins.
INTERACTIONS_2025_01 = """\
interaction_id,started_at,channel,interaction_type,topic,outcome,queue_seconds,handle_seconds
k1,2025-01-15 09:00:00,phone,general_inquiry,Property Tax Billing,answered,20,150
i10,2024-06-01 08:00:00,web,service_request,,,,
"""
# S4 (New in service_requests_2024.csv) delivered again, now closed; S8 is new.
SERVICE_REQUESTS_2025_01 = """\
sr_id,created_at,closed_at,status,sr_type,division,section,ward
S4,2024-12-20 10:00:00,2025-01-06 10:00:00,Closed,Injured Wildlife,Municipal Licensing & Standards,Toronto Animal Services,Etobicoke-Lakeshore
S8,2025-01-07 10:00:00,,New,Road - Pot hole,Transportation Services,Road Operations,2
"""
TABLES = ("intermediate", "marts")


def _load(raw: Path, output: Path, capsys) -> str:
    """`load` (the extracts, then dbt build); what it says on the console (stderr)."""
    capsys.readouterr()
    assert main(["load", "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]) == 0
    return capsys.readouterr().err


def _write(path: Path, text: str, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))  # delivered after every earlier file


def _tables(db: Path) -> dict[str, list[tuple]]:
    """Every intermediate and mart table's rows, sorted (dbt's row order is not a contract)."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (?, ?) "
                            "ORDER BY 1, 2", list(TABLES)).fetchall()
        return {f"{s}.{t}": sorted(con.execute(f"SELECT * FROM {s}.{t}").fetchall(), key=repr)
                for s, t in names}


def _one(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()


def test_a_new_month_is_added_and_a_changed_file_starts_over(tmp_path: Path, capsys) -> None:
    raw, output = tmp_path / "raw", tmp_path / "output"
    write_extracts(raw)
    first = _load(raw, output, capsys)
    assert "every row is processed again" not in first  # a new warehouse: nothing to say
    db = output / "warehouse.duckdb"
    assert _one(db, "SELECT channel FROM intermediate.int_interactions WHERE interaction_id = 'i10'") == ("mobile_app",)

    later = time.time() + 60
    _write(raw / "2025" / "interactions_2025-01.csv", INTERACTIONS_2025_01, later)
    _write(raw / "2025" / "service_requests_2025-01.csv", SERVICE_REQUESTS_2025_01, later + 1)
    added = _load(raw, output, capsys)
    assert "files loaded 2, unchanged 5" in added
    assert "every row is processed again" not in added
    # only the new deliveries were read: the rows of the first five files keep their ranks 1-5
    # and the two new files are ranks 6 and 7
    assert _one(db, "SELECT max(delivery_rank) FROM intermediate.int_interactions") == (6,)
    assert _one(db, "SELECT channel, delivery_rank FROM intermediate.int_interactions "
                    "WHERE interaction_id = 'i10'") == ("web", 6)
    assert _one(db, "SELECT status, delivery_rank FROM intermediate.int_service_requests "
                    "WHERE sr_id = 'S4'") == ("closed", 7)
    # 2024's interactions (12 lines, i1 twice and the rejected 'fax' row) + 2023's 3 + k1 = 14
    assert _one(db, "SELECT count(*) FROM intermediate.int_interactions") == (10 + 3 + 1,)

    scratch = tmp_path / "scratch"
    _load(raw, scratch, capsys)  # the same files, built from scratch
    built, fresh = _tables(db), _tables(scratch / "warehouse.duckdb")
    # the same figures; what differs is only what chose S4's January version: here the January
    # file came with a later load run (the delivery order), there all seven files were first
    # loaded together (their modification times)
    versions = ("intermediate.int_sr_versions", "marts.mart_sr_versions")
    assert {k: v for k, v in built.items() if k not in versions} == \
        {k: v for k, v in fresh.items() if k not in versions}
    january = "2025/service_requests_2025-01.csv"
    assert [built[v] for v in versions] == [[("S4", january, "delivery order")], [(january, "delivery order", 1)]]
    assert [fresh[v] for v in versions] == [[("S4", january, "modification time")],
                                            [(january, "modification time", 1)]]

    # an old file delivered again with one value changed: every row is processed again
    changed = SERVICE_REQUESTS_2024.replace("S5,2024-04-01 10:00:00,2024-04-02 10:00:00,Cancelled",
                                            "S5,2024-04-01 10:00:00,2024-04-02 10:00:00,Closed")
    assert changed != SERVICE_REQUESTS_2024
    path = raw / "2024" / "service_requests_2024.csv"
    mtime = path.stat().st_mtime
    _write(path, changed, mtime)  # its old modification time, new content: a new delivery
    again = _load(raw, output, capsys)
    assert "every row is processed again: 2024/service_requests_2024.csv changed" in again
    assert _one(db, "SELECT status FROM intermediate.int_service_requests WHERE sr_id = 'S5'") == ("closed",)
    # the changed file is placed after every file loaded before (rank 8, after January's 7),
    # whatever its modification time: its S4 (New, no updated_at) is now the latest version
    assert _one(db, "SELECT status, delivery_rank FROM intermediate.int_service_requests "
                    "WHERE sr_id = 'S4'") == ("initiated", 8)
