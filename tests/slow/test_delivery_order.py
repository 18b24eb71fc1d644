"""Delivery order that survives a copy (docs/data-contract.md, "Repeated ids"), through the
figures: which version of an SR counts, with real loads and dbt builds of small SR files.

An SR delivered twice, New and then Closed: which one counts is the whole figure here, read
from the row-level model (int_service_requests) and compared mart by mart between warehouses.
Six dbt builds, so this runs in the slow suite; the loader alone is tested in
tests/unit/test_deliveries.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from pipeline.cli import main
from pipeline.metrics import key_metrics
from pipeline.report.annual import render_html
from pipeline.report.chart_specs import key_metric_specs
from pipeline.report.sources import report_meta

T = 1_767_225_600  # 1 January 2026, 00:00 UTC
SH = "sr_id,created_at,closed_at,status,sr_type,division,ward"
SH_UPDATED = f"{SH},updated_at"
A = "2024/service_requests_a.csv"
B = "2024/service_requests_b.csv"
# S1 New (a.csv) and then Closed (b.csv), S2 once in each file
NEW = f"{SH}\nS1,2024-07-02 10:00:00,,New,Road - Pot hole,Transportation Services,2\n" \
      "S2,2024-07-03 10:00:00,,New,Road - Pot hole,Transportation Services,2\n"
CLOSED = f"{SH}\nS1,2024-07-02 10:00:00,2024-07-05 10:00:00,Closed,Road - Pot hole,Transportation Services,2\n" \
         "S3,2024-07-04 10:00:00,,New,Road - Pot hole,Transportation Services,2\n"
# the same two deliveries, each saying when the source system last changed S1; and a third,
# delivered after both, that holds S1 as it was on 3 July (in progress): older news, late
NEW_UPDATED = f"{SH_UPDATED}\nS1,2024-07-02 10:00:00,,New,Road - Pot hole,Transportation Services,2," \
              "2024-07-02 10:00:00\n"
CLOSED_UPDATED = f"{SH_UPDATED}\nS1,2024-07-02 10:00:00,2024-07-05 10:00:00,Closed,Road - Pot hole," \
                 "Transportation Services,2,2024-07-05 10:00:00\n"
LATE_UPDATED = f"{SH_UPDATED}\nS1,2024-07-02 10:00:00,,In Progress,Road - Pot hole,Transportation Services,2," \
               "2024-07-03 10:00:00\nS4,2024-07-06 10:00:00,,New,Road - Pot hole,Transportation Services,2,\n"
FIGURES = "marts"  # the schema of the figures the documents read
# marts that say where rows came from (ranks, load runs), which a fresh warehouse numbers anew
BOOKKEEPING = ("marts.mart_data_quality", "marts.mart_report_files", "marts.mart_sr_versions")


def _deliver(raw: Path, rel: str, text: str, mtime: float) -> None:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def _load(raw: Path, output: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["load", "--raw", str(raw), "--output", str(output)]) == 0
    return capsys.readouterr().err


def _s1(output: Path) -> tuple:
    with duckdb.connect(str(output / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT status, delivery_rank FROM intermediate.int_service_requests "
                           "WHERE sr_id = 'S1'").fetchone()


def _marts(output: Path, leave_out: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    with duckdb.connect(str(output / "warehouse.duckdb"), read_only=True) as con:
        names = [f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 2",
            [FIGURES]).fetchall()]
        return {n: sorted(con.execute(f"SELECT * FROM {n}").fetchall(), key=repr)
                for n in names if n not in leave_out}


def _copy(raw: Path, to: Path, mtimes: dict[str, float]) -> Path:
    """``cp -r`` (new modification times), then the given times."""
    shutil.copytree(raw, to, copy_function=shutil.copyfile)
    for rel, mtime in mtimes.items():
        os.utime(to / rel, (mtime, mtime))
    return to


def test_two_versions_with_reversed_modification_times(tmp_path: Path, capsys) -> None:
    # b.csv (Closed) is delivered a day after a.csv (New), but its modification time is older
    # (a copy kept an old date): loaded one at a time, the delivery order decides
    raw, output = tmp_path / "raw", tmp_path / "out"
    _deliver(raw, A, NEW, T + 86_400)
    _load(raw, output, capsys)
    assert _s1(output) == ("initiated", 1)
    _deliver(raw, B, CLOSED, T)
    said = _load(raw, output, capsys)
    assert _s1(output) == ("closed", 2)  # b was placed after a, its time notwithstanding
    assert ("1 SR(s) delivered in more than one version with no updated_at to tell which is newer; the "
            "version that counts was chosen by the delivery order: 1") in said

    # a new warehouse over the same folder has only the modification times to go by: a (later
    # time) is placed after b, so S1 counts as New; the console and the data notes say so
    fresh = tmp_path / "fresh"
    said = _load(raw, fresh, capsys)
    assert _s1(fresh) == ("initiated", 2)
    assert ("the version that counts was chosen by the modification times (then names) of files first loaded "
            "together, which a copy can change: 1") in said
    meta = report_meta(raw, fresh / "warehouse.duckdb", 2024)
    assert meta["delivery_order"] == [{"file": B, "by_modification_time": True},
                                      {"file": A, "by_modification_time": True}]
    assert meta["decided_by_modification_time"] == 1
    metrics = key_metrics(fresh / "warehouse.duckdb", 2024)
    html = render_html(metrics, meta, "html", "annual", key_metric_specs(metrics, with_svg=False))
    assert ('<ol class="delivery-order">\n<li><code>2024/service_requests_b.csv</code>: placed by its modification '
            'time</li>\n<li><code>2024/service_requests_a.csv</code>: placed by its modification time</li>\n</ol>'
            in html)
    assert "That order chose the version that counts for 1 service request of these files" in html


def test_touch_a_copy_or_an_unzip_after_a_load_changes_no_figure(tmp_path: Path, capsys) -> None:
    raw, output = tmp_path / "raw", tmp_path / "out"
    _deliver(raw, A, NEW, T)
    _deliver(raw, B, CLOSED, T + 3600)
    _load(raw, output, capsys)
    assert _s1(output) == ("closed", 2)
    figures = _marts(output)
    # touch: a is now the newer file by its time
    os.utime(raw / A, (T + 7200, T + 7200))
    said = _load(raw, output, capsys)
    assert "files loaded 0, unchanged 2" in said and "nothing changed since the last build: dbt skipped" in said
    assert _s1(output) == ("closed", 2) and _marts(output) == figures
    # the whole folder copied with new times, a newer than b, loaded into the same output
    copy = _copy(raw, tmp_path / "copy", {A: T + 99_000, B: T + 98_000})
    said = _load(copy, output, capsys)
    assert "files loaded 0, unchanged 2" in said and "dbt skipped" in said
    assert _s1(output) == ("closed", 2) and _marts(output) == figures


def test_updated_at_decides_against_the_delivery_order_and_survives_a_copy(tmp_path: Path, capsys) -> None:
    # delivered one at a time: New (2 July), Closed (5 July), then late news from 3 July
    raw, output = tmp_path / "raw", tmp_path / "out"
    _deliver(raw, A, NEW_UPDATED, T)
    _deliver(raw, B, CLOSED_UPDATED, T + 3600)
    _load(raw, output, capsys)
    assert _s1(output) == ("closed", 2)
    _deliver(raw, "2024/service_requests_c.csv", LATE_UPDATED, T + 7200)
    said = _load(raw, output, capsys)  # an incremental build: c is new, a and b are not read again
    assert "every row is processed again" not in said
    assert _s1(output) == ("closed", 2)  # the later delivery, c, holds older news: it does not count
    assert "no updated_at to tell" not in said  # updated_at decided every SR delivered twice
    figures = _marts(output, BOOKKEEPING)

    # a fresh output over a copy whose times put the late file (c) last and the closed one
    # (b) first: by time alone S1 would be in progress; its updated_at keeps it closed
    copy = _copy(raw, tmp_path / "copy", {B: T + 50_000, A: T + 50_001, "2024/service_requests_c.csv": T + 50_002})
    fresh = tmp_path / "fresh"
    said = _load(copy, fresh, capsys)
    assert _s1(fresh) == ("closed", 1)  # b, now placed first
    assert "no updated_at to tell" not in said
    assert _marts(fresh, BOOKKEEPING) == figures
    assert report_meta(copy, fresh / "warehouse.duckdb", 2024)["decided_by_modification_time"] == 0
