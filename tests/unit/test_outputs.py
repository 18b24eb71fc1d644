"""pipeline.outputs: one run per OUTPUT, result sets published whole, recovery after a kill."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import tempfile
import threading
from pathlib import Path

import pytest

from pipeline.errors import CxError
from pipeline.outputs import (
    LOCK_NAME,
    OutputBusy,
    os_error_message,
    prepare_folder,
    private_tmp,
    publish,
    recover,
    run_lock,
    staged,
)
from tests.support.polling import wait_until


def _hold_lock(output: str, ready, release) -> None:
    with run_lock(Path(output), "cx311 report --year 2024"):
        ready.set()
        release.wait(30)


def test_a_second_run_is_refused_with_the_owner_named(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(OutputBusy) as busy, run_lock(tmp_path, "cx311 bia"):
            pass
        message = str(busy.value)
        assert f"{tmp_path} is in use by pid {holder.pid} since " in message
        assert "(cx311 report --year 2024)" in message and "--wait" in message
    finally:
        release.set()
        holder.join(10)
    with run_lock(tmp_path, "cx311 bia"):  # free again once the holder ended
        owner = json.loads((tmp_path / LOCK_NAME).read_text(encoding="utf-8"))
        assert owner["pid"] == os.getpid() and owner["command"] == "cx311 bia"


def test_a_killed_owner_leaves_a_stale_lock_that_is_taken_over_with_a_note(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(10)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    notes: list[str] = []
    with run_lock(tmp_path, "cx311 report", say=notes.append):
        pass
    assert notes == [f"note: taking over the lock of pid {holder.pid} (cx311 report --year 2024), "
                     "which is no longer running"]


def test_wait_queues_behind_the_owner(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(10)
    notes: list[str] = []
    waiting = threading.Event()

    def say(message: str) -> None:
        notes.append(message)
        waiting.set()

    def release_once_waiting() -> None:
        # the holder lets go once the second run has said it waits, however long that takes
        # (a fixed delay could end before the second run even tried the lock)
        try:
            wait_until(waiting.is_set, 10, "run_lock(wait=True) to say it is waiting")
        except AssertionError as error:
            timed_out.append(str(error))
        finally:
            release.set()

    timed_out: list[str] = []
    releaser = threading.Thread(target=release_once_waiting)
    releaser.start()
    with run_lock(tmp_path, "cx311 bia", wait=True, say=say):
        assert not holder.is_alive() or release.is_set()
    releaser.join(10)
    holder.join(10)
    assert timed_out == []
    assert len(notes) == 1 and notes[0].startswith(f"waiting: {tmp_path} is in use by pid {holder.pid}")


def test_publish_replaces_the_set_whole_and_keeps_named_files(tmp_path: Path) -> None:
    final = tmp_path / "bia" / "2024-07"
    final.mkdir(parents=True)
    (final / "old.pdf").write_text("old", encoding="utf-8")
    (final / "send_log.jsonl").write_text('{"bia": "x"}\n', encoding="utf-8")
    with staged(tmp_path, final) as work:
        (work / "new.pdf").write_text("new", encoding="utf-8")
        publish(work, final, keep=("send_log.jsonl",))
    assert sorted(p.name for p in final.iterdir()) == ["new.pdf", "send_log.jsonl"]
    assert (final / "send_log.jsonl").read_text(encoding="utf-8") == '{"bia": "x"}\n'
    assert [p.name for p in (tmp_path / ".staging").iterdir()] == []


def test_a_failed_run_leaves_the_previous_set_untouched(tmp_path: Path) -> None:
    final = tmp_path / "2024"
    final.mkdir()
    (final / "manifest.json").write_text("previous", encoding="utf-8")
    with pytest.raises(RuntimeError), staged(tmp_path, final) as work:
        (work / "manifest.json").write_text("half", encoding="utf-8")
        raise RuntimeError("narrative error")
    assert (final / "manifest.json").read_text(encoding="utf-8") == "previous"
    assert list((tmp_path / ".staging").iterdir()) == []


def test_recover_puts_back_a_set_moved_aside_by_a_killed_publish(tmp_path: Path) -> None:
    # what a kill between publish's two renames leaves: the old set aside, the new one staged
    final = tmp_path / "2024"
    aside = tmp_path / ".staging" / "previous-2024-1-2"
    aside.mkdir(parents=True)
    (aside / "manifest.json").write_text("previous", encoding="utf-8")
    (tmp_path / ".staging" / "previous-2024-1-2.published-as").write_text(str(final.resolve()), encoding="utf-8")
    (tmp_path / ".staging" / "2024-abc").mkdir()
    assert recover(tmp_path) == [f"restored {final.resolve()}: a run was killed while publishing it"]
    assert (final / "manifest.json").read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in final.iterdir()) == ["manifest.json"]  # nothing of the publish's own
    assert not (tmp_path / ".staging").exists()


def test_recover_leaves_a_set_a_killed_publish_had_not_yet_moved(tmp_path: Path) -> None:
    # a kill after the marker was written, before the first rename: the set is where it was
    final = tmp_path / "2024"
    final.mkdir()
    (final / "manifest.json").write_text("previous", encoding="utf-8")
    (tmp_path / ".staging").mkdir()
    (tmp_path / ".staging" / "previous-2024-1-2.published-as").write_text(str(final.resolve()), encoding="utf-8")
    assert recover(tmp_path) == []
    assert sorted(p.name for p in final.iterdir()) == ["manifest.json"]
    assert not (tmp_path / ".staging").exists()


def test_private_tmp_keeps_temporary_files_inside_output_and_removes_them(tmp_path: Path) -> None:
    with private_tmp(tmp_path) as tmp:
        assert os.environ["TMPDIR"] == str(tmp)
        made = Path(tempfile.mkdtemp(prefix="weasyprint-"))
        assert made.parent == tmp
    assert not tmp.exists()
    assert os.environ.get("TMPDIR") != str(tmp)


def test_output_that_is_a_file_gets_one_paragraph(tmp_path: Path) -> None:
    target = tmp_path / "output"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CxError, match="is a file, not a folder"):
        prepare_folder(target)


def test_os_errors_read_as_one_paragraph_naming_the_path() -> None:
    import errno

    assert os_error_message(OSError(errno.ENOSPC, "No space left on device", "/out/2024/a.pdf")) == (
        "The disk is full: could not write /out/2024/a.pdf. Free some space and run again.")
    assert os_error_message(PermissionError(errno.EACCES, "Permission denied", "/raw/2024/x.csv")) == (
        "Permission denied: /raw/2024/x.csv cannot be read or written by this user.")


def test_an_unreadable_warehouse_is_set_aside(tmp_path: Path) -> None:
    import duckdb

    from pipeline.warehouse import set_aside_if_unreadable

    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(300000)")
    assert set_aside_if_unreadable(db) is None and db.exists()  # a good file stays
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.truncate(size // 2)  # what a full disk or a killed copy leaves
    aside, reason = set_aside_if_unreadable(db)
    assert aside == tmp_path / "warehouse.duckdb.unreadable-1" and aside.stat().st_size == size // 2
    assert not db.exists() and reason.startswith("IO Error")
    db.write_bytes(b"not a database at all" * 100)
    assert set_aside_if_unreadable(db)[0] == tmp_path / "warehouse.duckdb.unreadable-2"


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real 64 KiB tmpfs (16 pages of 4 KiB): CI runs as root; unmounted in a finally."""
    import subprocess

    mount = tmp_path / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_write_on_a_full_disk_names_the_file(tiny_disk: Path) -> None:
    import errno

    from pipeline.files import atomic_write

    target = tiny_disk / "2024" / "report.pdf"
    with pytest.raises(OSError) as error:
        atomic_write(target, b"%PDF" * 20_000)  # 80,000 bytes: 20 pages, the disk has 16
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(target)
    assert os_error_message(error.value) == (
        f"The disk is full: could not write {target}. Free some space and run again.")
    assert list(target.parent.iterdir()) == []  # its temporary file is gone too


def test_publish_on_a_full_disk_leaves_the_previous_set(tiny_disk: Path) -> None:
    final = tiny_disk / "2024"
    final.mkdir()
    (final / "manifest.json").write_bytes(b"p" * 4096 * 4)  # the previous set: 4 pages
    with pytest.raises(OSError) as error, staged(tiny_disk, final) as work:
        (work / "manifest.json").write_bytes(b"n" * 4096 * 12)  # the new one: the other 12 pages
        publish(work, final)
    # the marker naming the set, written before anything moves, found no page: nothing moved
    assert error.value.filename.startswith(f"{tiny_disk}/.staging/previous-2024-")
    assert error.value.filename.endswith(".published-as")
    assert [p.name for p in final.iterdir()] == ["manifest.json"]
    assert (final / "manifest.json").read_bytes() == b"p" * 4096 * 4
    assert list((tiny_disk / ".staging").iterdir()) == []  # the staged set is removed with its marker


def test_a_full_disk_reads_the_same_however_it_is_reported() -> None:
    from pipeline.errors import disk_full, full_disk_path

    # DuckDB's, dbt's (Python's) and a message naming no file; and one that is not about space
    assert full_disk_path('IO Error: Could not write file "/o/warehouse.duckdb.wal": No space left on device') == (
        "/o/warehouse.duckdb.wal")
    assert full_disk_path("[Errno 28] No space left on device: '/o/dbt_target/manifest.json'") == (
        "/o/dbt_target/manifest.json")
    assert full_disk_path("OSError: No space left on device") == ""
    assert full_disk_path("Permission denied") is None
    assert disk_full("/o/x.pdf", "dbt build") == (
        "The disk is full: could not write /o/x.pdf (dbt build). Free some space and run again.")
    assert disk_full("") == "The disk is full. Free some space and run again."
