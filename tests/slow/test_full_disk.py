"""A full disk and an unreadable file, for real: OUTPUT on a small tmpfs that fills during the
load, during `dbt build`, during rendering and during publishing, and an extract the running
(unprivileged) user may not read. Each run exits 1 with one paragraph naming the path, the
previous set is intact, and the next run (with space, or with the permission back) succeeds
with the same set. CI runs as root: the tests mount a tmpfs (unmounted in a `finally`) and run
the pipeline as `nobody` in a forked child.

Real processes, a real DuckDB file, real dbt and WeasyPrint on the demo data at 1% of Toronto's
volume (a full run needs about 20 MB of the 48 MB tmpfs)."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.demo import generate
from tests.integration.extracts import write_extracts
from tests.slow.test_faults import PROJECT, hashes, in_dbt, in_render, manifest_matches, report_args
from tests.support.polling import wait_until

TMPFS_SIZE = 48 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")
BALLAST = "ballast"  # the file that fills the disk, beside OUTPUT on the tmpfs
NOBODY = 65534


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(mount: Path, leave: int = 0) -> None:
    """Grow the ballast until ``leave`` bytes (whole pages) are free on the tmpfs."""
    with (mount / BALLAST).open("ab") as f:
        while (room := free_bytes(mount) - leave) > 0:
            try:
                f.write(b"\0" * min(room, 1 << 20))
                f.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                break
    assert free_bytes(mount) == leave, (free_bytes(mount), leave)


def pages(path: Path) -> int:
    """The tmpfs pages a file of this size takes."""
    return -(-path.stat().st_size // PAGE)


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A tmpfs holding OUTPUT with the 2024 set of a first run (the reference), and the raw folder."""
    base = tmp_path_factory.mktemp("full-disk")
    raw = base / "raw"
    generate(raw, scale=0.01)
    mount = base / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount)], check=True)
    try:
        output = mount / "out"
        first = run(raw, output)
        assert first.returncode == 0, first.stderr
        yield {"raw": raw, "mount": mount, "output": output, "reference": hashes(output / "2024")}
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def run(raw: Path, output: Path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run([*report_args(raw, output), *more], cwd=PROJECT, capture_output=True, text=True,
                          timeout=600, check=False)


def the_error(stderr: str) -> str:
    """The run's error: its last line, which must be the one paragraph 'error: …'."""
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), stderr
    assert "Traceback" not in stderr, stderr
    return lines[-1]


def full_during(disk: dict, ready: Callable[[subprocess.Popen, Path], bool], leave: Callable[[], int]) -> str:
    """Start a report, fill the tmpfs to ``leave()`` free bytes once ``ready``; the run's error."""
    proc = subprocess.Popen(report_args(disk["raw"], disk["output"]), cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def reached() -> bool:
        if ready(proc, disk["output"]):
            return True
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {ready.__name__} held"
        return False

    wait_until(reached, 300, f"the run to reach its stage ({ready.__name__})")
    fill(disk["mount"], leave())
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr
    return the_error(stderr)


def afterwards(disk: dict, before: dict[str, str]) -> None:
    """The previous set is as it was; with the ballast gone, the next run makes the same set."""
    output = disk["output"]
    assert hashes(output / "2024") == before and manifest_matches(output / "2024")
    assert not (output / ".staging").exists()  # the failed run's staging is gone with it
    (disk["mount"] / BALLAST).unlink()
    rerun = run(disk["raw"], output)
    assert rerun.returncode == 0, rerun.stderr
    assert hashes(output / "2024") == disk["reference"]


def drop_warehouse(output: Path) -> None:
    """So that the next run loads and builds everything again (and needs the space to)."""
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (output / name).unlink(missing_ok=True)


def test_the_disk_fills_during_the_load(disk: dict) -> None:
    output, before = disk["output"], hashes(disk["output"] / "2024")
    drop_warehouse(output)
    # 1 MiB free: the lock and the run's folders fit, the load (its warehouse's log holds the
    # 1% demo's ~11 MB of rows before they are written to the file) does not
    fill(disk["mount"], 1 << 20)
    done = run(disk["raw"], output)
    assert done.returncode == 1
    assert the_error(done.stderr) == (f"error: The disk is full: could not write {output}/warehouse.duckdb.wal "
                                      "(loading the extracts). Free some space and run again. Nothing from this "
                                      "run was loaded.")
    afterwards(disk, before)


def test_the_disk_fills_during_dbt_build(disk: dict) -> None:
    output, before = disk["output"], hashes(disk["output"] / "2024")
    drop_warehouse(output)
    # filled once dbt's process runs (it takes seconds to start before it writes anything)
    error = full_during(disk, in_dbt, lambda: 0)
    assert error.startswith("error: The disk is full: could not write ") and str(output) in error, error
    assert error.endswith(" (dbt build). Free some space and run again."), error
    afterwards(disk, before)


def test_the_disk_fills_during_rendering(disk: dict) -> None:
    output, before = disk["output"], hashes(disk["output"] / "2024")
    # filled once the documents are being laid out: WeasyPrint's temporary copy of a font (in
    # the run's own temporary folder) or a document finds no room, inside OUTPUT/.staging/
    error = full_during(disk, in_render, lambda: 0)
    assert error.startswith(f"error: The disk is full: could not write {output}/.staging/") or \
        error.startswith(f"error: The disk is full: could not write a temporary file in {output}/.staging/tmp-"), \
        error
    assert error.endswith(". Free some space and run again."), error
    afterwards(disk, before)


def paused_at_git(tmp: Path) -> tuple[dict[str, str], Path, Path]:
    """An environment whose `git` tells the test it was called (a file appears) and waits for a
    line on a FIFO before it runs the real git: the manifest asks git for the commit once every
    document is staged, just before the manifest, the set's last file, is written."""
    shim = tmp / "shim"
    shim.mkdir()
    called, go = tmp / "git-called", tmp / "git-go"
    os.mkfifo(go)
    real = shutil.which("git")
    (shim / "git").write_text(f'#!/bin/sh\n: > "{called}"\nread _ < "{go}"\nexec "{real}" "$@"\n', encoding="utf-8")
    (shim / "git").chmod(0o755)
    return {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}, called, go


def test_the_disk_fills_during_publishing(disk: dict, tmp_path: Path) -> None:
    output, before = disk["output"], hashes(disk["output"] / "2024")
    env, called, go = paused_at_git(tmp_path)
    fifo = os.open(go, os.O_RDWR)  # never blocks; what is written waits there for git's read
    proc = subprocess.Popen(report_args(disk["raw"], output), cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: called.exists() or proc.poll() is not None, 300, "the run to ask git for the commit")
        assert proc.poll() is None, proc.communicate()[1]
        # every document is staged; the manifest is to come, the previous set's byte for byte
        # (the same extracts, code and documents): exactly its pages are left free, so the set
        # is staged whole and the disk is full when it is published
        fill(disk["mount"], pages(output / "2024" / "manifest.json") * PAGE)
    finally:
        os.write(fifo, b"go\n")  # let git (and the run) go on, whatever happened
        _, stderr = proc.communicate(timeout=600)
        os.close(fifo)
    assert proc.returncode == 1, stderr
    error = the_error(stderr)
    assert error.startswith(f"error: The disk is full: could not write {output}/.staging/previous-2024-"), error
    assert error.endswith(".published-as. Free some space and run again."), error
    afterwards(disk, before)


# --------------------------------------------------------------------------- an unreadable file


def as_nobody(args: list[str]) -> tuple[int, str]:
    """Run the CLI with ``args`` as the unprivileged user nobody, in a forked child of this
    (root) process; its exit status and what it wrote to stderr. The child needs no file of
    the interpreter's own (outside the user's reach here): the modules are imported first."""
    import pipeline.cli
    import pipeline.ingest
    import pipeline.manifest
    import pipeline.metrics
    import pipeline.report.context
    import pipeline.report.head_start
    import pipeline.report.narrative
    import pipeline.report.sources
    import pipeline.transform  # noqa: F401  (imported before the user changes)

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 70
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            sys.stderr = io.TextIOWrapper(os.fdopen(write, "wb"), encoding="utf-8", write_through=True)
            sys.stdout = sys.stderr
            status = pipeline.cli.main(args)
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as f:
        said = f.read()
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), said


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder the user nobody may enter (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="cx311-nobody-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_an_extract_the_user_may_not_read(shared: Path) -> None:
    raw, output = shared / "raw", shared / "out"
    write_extracts(raw)
    for path in [raw, *raw.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    # the hand-made extracts hold 1 bad row of 12 ('fax'): over the default 1% limit
    made = run(raw, output, "--max-reject-rate", "0.5")  # the previous set, by root
    assert made.returncode == 0, made.stderr
    before = hashes(output / "2024")
    for path in [output, *output.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)  # the analyst's own output folder
    secret = raw / "2024" / "service_requests_2024.csv"
    secret.chmod(0o600)  # root's alone: nobody may not read it
    status, said = as_nobody(["report", "--year", "2024", "--raw", str(raw), "--output", str(output),
                              "--max-reject-rate", "0.5"])
    assert status == 1, said
    assert the_error(said) == (f"error: Cannot load {secret}: this user (nobody) may not read it. Give the user "
                               "read access to it (chmod a+r), or run as a user who has it. Nothing from this run "
                               "was loaded.")
    assert hashes(output / "2024") == before and manifest_matches(output / "2024")
    secret.chmod(0o644)  # the permission back: the next run makes the same set
    rerun = run(raw, output, "--max-reject-rate", "0.5")
    assert rerun.returncode == 0, rerun.stderr
    assert hashes(output / "2024") == before
