"""The delivery order survives a copy (pipeline/ingest/deliveries.py): a file's place is fixed
when the warehouse first loads it. The loader only: the figures, through dbt, are in
tests/slow/test_delivery_order.py."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

import duckdb

from pipeline.ingest import load
from tests.unit.test_ingest import all_tables, sr_file
from tests.unit.test_ingest_support import q

T = 1_767_225_600  # 1 January 2026, 00:00 UTC: the files' modification times count from it
SH_UPDATED = "sr_id,created_at,closed_at,status,sr_type,division,updated_at"


def places(db: Path) -> list[tuple]:
    """(file, delivery rank, load batch) of every loaded file, in delivery order."""
    return q(db, "SELECT source_file, delivery_rank, load_batch FROM raw.load_audit ORDER BY delivery_rank")


def _deliver(raw: Path, rel: str, text: str, mtime: float) -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


def _two_versions(raw: Path) -> None:
    """S1 delivered twice: New in a.csv, then Closed in b.csv (delivered an hour later)."""
    _deliver(raw, "2024/service_requests_a.csv", sr_file(["S1,2024-07-02 10:00:00,,New,T,D,,,,,"]), T)
    _deliver(raw, "2024/service_requests_b.csv",
             sr_file(["S1,2024-07-02 10:00:00,2024-07-05 10:00:00,Closed,T,D,,,,,"]), T + 3600)


def test_files_first_loaded_together_are_placed_by_modification_time_then_name(raw_dir, db_path):
    # c and a have the same modification time: the name decides (a before c); b is older
    for name, mtime in (("c", T + 10), ("a", T + 10), ("b", T)):
        _deliver(raw_dir, f"2024/service_requests_{name}.csv", sr_file([f"S{name},2024-07-02 10:00:00,,New,T,D,,,,,"]),
                 mtime)
    load(raw_dir, db_path)
    # one load run (batch 1) placed all three: b (oldest), then a and c (same time: by name)
    assert places(db_path) == [("2024/service_requests_b.csv", 1, 1), ("2024/service_requests_a.csv", 2, 1),
                               ("2024/service_requests_c.csv", 3, 1)]


def test_a_new_file_is_placed_after_every_file_loaded_before_whatever_its_time(raw_dir, db_path):
    _two_versions(raw_dir)
    load(raw_dir, db_path)
    # a file delivered later but dated a day before the others (a copy that kept an old date)
    _deliver(raw_dir, "2024/service_requests_0.csv", sr_file(["S9,2024-07-02 10:00:00,,New,T,D,,,,,"]), T - 86_400)
    summary = load(raw_dir, db_path)
    assert summary.files_loaded == ["2024/service_requests_0.csv"]  # the other two are unchanged
    assert sorted(summary.files_skipped) == ["2024/service_requests_a.csv", "2024/service_requests_b.csv"]
    # a and b keep ranks 1 and 2 of batch 1; the new file is rank 3 of batch 2
    assert places(db_path) == [("2024/service_requests_a.csv", 1, 1), ("2024/service_requests_b.csv", 2, 1),
                               ("2024/service_requests_0.csv", 3, 2)]


def test_touch_after_a_load_changes_nothing(raw_dir, db_path):
    _two_versions(raw_dir)
    load(raw_dir, db_path)
    before = all_tables(db_path)
    # a's modification time is now later than b's: by time alone, a would be the later delivery
    os.utime(raw_dir / "2024" / "service_requests_a.csv", (T + 7200, T + 7200))
    summary = load(raw_dir, db_path)
    assert summary.files_loaded == [] and len(summary.files_skipped) == 2
    assert all_tables(db_path) == before  # ranks, batches, recorded times: all as they were


def test_a_copy_or_an_unzip_of_the_folder_loaded_into_the_same_warehouse_changes_nothing(raw_dir, db_path,
                                                                                          tmp_path):
    _two_versions(raw_dir)
    load(raw_dir, db_path)
    before = all_tables(db_path)
    # cp -r: new modification times, reversed (b older than a), in another folder
    copy = tmp_path / "copy"
    shutil.copytree(raw_dir, copy, copy_function=shutil.copyfile)
    os.utime(copy / "2024" / "service_requests_a.csv", (T + 9000, T + 9000))
    os.utime(copy / "2024" / "service_requests_b.csv", (T + 100, T + 100))
    summary = load(copy, db_path)
    assert summary.files_loaded == [] and len(summary.files_skipped) == 2
    assert all_tables(db_path) == before
    # an unzip: the archive's extraction gives every file the time of extraction
    archive = tmp_path / "raw.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(raw_dir.rglob("*.csv")):
            zf.write(path, path.relative_to(raw_dir).as_posix())
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(unzipped)
    assert sorted(p.name for p in unzipped.rglob("*.csv")) == ["service_requests_a.csv", "service_requests_b.csv"]
    summary = load(unzipped, db_path)
    assert summary.files_loaded == [] and len(summary.files_skipped) == 2
    assert all_tables(db_path) == before


def test_a_changed_file_loaded_again_keeps_an_unchanged_later_files_time(raw_dir, db_path):
    # first.csv (rank 1) changes: second.csv (rank 2, unchanged) is loaded again after it, in
    # its place and with the modification time recorded when first loaded (T + 10), not its
    # new one (T + 30 days): its row dated 2026-01-02 20:00 Toronto stays implausible.
    header = "Creation Date,Status,First 3 Chars of Postal Code,Intersection Street 1,Intersection Street 2,Ward," \
             "Service Request Type,Division,Section"
    ok = "2025-12-30 10:00:00.0000000,Closed,M6H,,,,Road - Pot hole,Transportation Services,"
    late = "2026-01-02 20:00:00.0000000,Closed,M6H,,,,Road - Pot hole,Transportation Services,"
    _deliver(raw_dir, "open_data/first.csv", f"{header}\n{ok}\n", T)
    second = _deliver(raw_dir, "open_data/second.csv", f"{header}\n{ok}\n{late}\n", T + 10)
    load(raw_dir, db_path, max_reject_rate=1.0)
    os.utime(second, (T + 30 * 86_400, T + 30 * 86_400))
    _deliver(raw_dir, "open_data/first.csv", f"{header}\n{ok.replace('M6H', 'M4C')}\n", T)
    summary = load(raw_dir, db_path, max_reject_rate=1.0)
    # second.csv keeps rank 2 and batch 1; first.csv, changed, is rank 3 of batch 2
    assert summary.files_loaded == ["open_data/second.csv", "open_data/first.csv"]
    assert places(db_path) == [("open_data/second.csv", 2, 1), ("open_data/first.csv", 3, 2)]
    assert q(db_path, "SELECT source_file, line, reason FROM raw.rejects") == [("open_data/second.csv", 3,
                                                                                 "implausible date")]
    assert q(db_path, "SELECT mtime_ns FROM raw.load_audit WHERE source_file = 'open_data/second.csv'") == [
        ((T + 10) * 10**9,)]


def test_updated_at_is_an_optional_timestamp_column(raw_dir, db_path, write_csv):
    write_csv("2024/service_requests_a.csv", f"""
        {SH_UPDATED}
        S1,2024-07-02 10:00:00,,New,T,D,2024-07-02 11:00:00
        S2,2024-07-02 10:00:00,,New,T,D,
        S3,2024-07-02 10:00:00,,New,T,D,yesterday
        S4,2024-07-02 10:00:00,,New,T,D,1999-12-31 23:00:00
        """)
    write_csv("2024/service_requests_b.csv", sr_file(["S1,2024-07-02 10:00:00,,In Progress,T,D,,,,,"]))
    load(raw_dir, db_path, max_reject_rate=1.0)
    # local Toronto time (EDT, UTC-4) to an instant; blank and a file without the column: null
    assert q(db_path, "SELECT sr_id, _source_file, updated_at FROM raw.service_requests ORDER BY 1, 2") == [
        ("S1", "2024/service_requests_a.csv", dt.datetime(2024, 7, 2, 15, 0, tzinfo=dt.UTC)),
        ("S1", "2024/service_requests_b.csv", None),
        ("S2", "2024/service_requests_a.csv", None),
    ]
    # a value that is not a time, or before 2000, rejects its row like any timestamp
    assert q(db_path, "SELECT line, \"column\", reason FROM raw.rejects ORDER BY line") == [
        (4, "updated_at", "unparseable timestamp"), (5, "updated_at", "implausible date")]


def test_a_warehouse_loaded_before_updated_at_is_loaded_again_once_keeping_its_places(raw_dir, db_path):
    _two_versions(raw_dir)
    load(raw_dir, db_path)
    # the warehouse as the previous version left it: no updated_at, no load batch, no times
    with duckdb.connect(str(db_path)) as con:
        for table, column in (("service_requests", "updated_at"), ("load_audit", "load_batch"),
                              ("load_audit", "mtime_ns")):
            con.execute(f"ALTER TABLE raw.{table} DROP COLUMN {column}")
    # the files' times are reversed since: the recorded ranks are kept all the same
    os.utime(raw_dir / "2024" / "service_requests_a.csv", (T + 9000, T + 9000))
    summary = load(raw_dir, db_path)
    assert summary.files_loaded == ["2024/service_requests_a.csv", "2024/service_requests_b.csv"]
    # places kept, batch 0: placed by modification time, as every load placed them then
    assert places(db_path) == [("2024/service_requests_a.csv", 1, 0), ("2024/service_requests_b.csv", 2, 0)]
    assert load(raw_dir, db_path).files_loaded == []  # once
