"""Fault injection: `python -m pipeline report` killed with SIGKILL in each stage (load, the
load with dbt's process started ahead of the build, dbt build, PDF rendering) over an existing
output set. Afterwards no child process survives, the previous set is intact (its manifest's
hashes match its files), an immediate rerun succeeds and its outputs are byte-identical to an
uninterrupted run's. Also: two runs on one OUTPUT.

Real processes, a real DuckDB file, real dbt and WeasyPrint; the demo data at 1% of Toronto's
volume keeps each run to seconds."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.demo import generate
from tests.support.polling import wait_until
from tests.support.processes import descendants

PROJECT = Path(__file__).resolve().parents[2]
PREVIOUS = "PREVIOUS SET: this sentence is only in the set made before the faults."
CHILDREN_EXIT = 5  # seconds the killed run's processes have to exit (they used to get 5 s of sleep)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def report_args(raw: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline", "report", "--year", "2024", "--raw", str(raw),
            "--output", str(output)]


def run_report(raw: Path, output: Path) -> subprocess.CompletedProcess:
    return subprocess.run(report_args(raw, output), cwd=PROJECT, capture_output=True, text=True,
                          timeout=600, check=False)


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def manifest_matches(folder: Path) -> bool:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = hashes(folder)
    return all(files.get(o["name"]) == o["sha256"] for o in manifest["outputs"]) and \
        set(files) == {o["name"] for o in manifest["outputs"]} | {"manifest.json"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("faults")
    raw = base / "raw"
    generate(raw, scale=0.01)
    # the uninterrupted run, with the shipped narrative
    reference = base / "reference"
    done = run_report(raw, reference)
    assert done.returncode == 0, done.stderr
    return {"base": base, "raw": raw, "reference": hashes(reference / "2024")}


def previous_set(setup: dict, name: str) -> Path:
    """An OUTPUT whose 2024 set was made with a narrative the later runs do not have."""
    output = setup["base"] / name
    narrative = setup["raw"] / "narrative" / "2024"
    narrative.mkdir(parents=True, exist_ok=True)
    (narrative / "highlights.md").write_text(PREVIOUS + "\n", encoding="utf-8")
    try:
        done = run_report(setup["raw"], output)
        assert done.returncode == 0, done.stderr
    finally:
        shutil.rmtree(setup["raw"] / "narrative")
    assert PREVIOUS in (output / "2024" / "cx-annual-report-2024.html").read_text(encoding="utf-8")
    return output


def in_load(proc: subprocess.Popen, output: Path) -> bool:
    lock = output / ".cx311.lock"
    return lock.exists() and str(proc.pid) in lock.read_text() and (output / "warehouse.duckdb").exists()


def dbt_processes(proc: subprocess.Popen) -> list[int]:
    """dbt's process (pipeline/dbt_process.py): started ahead during the load, or for the build."""
    return [p for p in descendants(proc.pid) if "dbt_process.py" in cmdline(p)]


def holds(pid: int, path: Path) -> bool:
    """The process has ``path`` open."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def in_dbt(proc: subprocess.Popen, output: Path) -> bool:
    """dbt builds: its process has the warehouse open (not before its command)."""
    return any(holds(p, (output / "warehouse.duckdb").resolve()) for p in dbt_processes(proc))


def in_load_with_dbt_ahead(proc: subprocess.Popen, output: Path) -> bool:
    """The load runs (the run holds the warehouse), and dbt's process started ahead of the
    build imports dbt, parses or waits (it has not opened the warehouse: no command yet)."""
    warehouse = (output / "warehouse.duckdb").resolve()
    ahead = [p for p in dbt_processes(proc) if " --wait " in cmdline(p)]
    return holds(proc.pid, warehouse) and bool(ahead) and not any(holds(p, warehouse) for p in ahead)


def pdf_workers(proc: subprocess.Popen) -> list[int]:
    """The PDF workers: forks of the run, so their command line is the run's."""
    run = cmdline(proc.pid)
    return [p for p in descendants(proc.pid) if cmdline(p) == run]


def in_dbt_with_workers(proc: subprocess.Popen, output: Path) -> bool:
    """dbt is building, and the PDF workers forked ahead of it (the render's head start) are up."""
    return in_dbt(proc, output) and bool(pdf_workers(proc))


def in_render(proc: subprocess.Popen, output: Path) -> bool:
    """The documents are being rendered: the build is over (the set is staged, its key metrics
    written) and the PDF workers are at work. (The workers are forked before dbt builds.)"""
    staged = any((output / ".staging").glob("2024-*/key_metrics.json"))
    return staged and not in_dbt(proc, output) and bool(pdf_workers(proc))


def survivors(children: dict[int, str], output: Path) -> dict[int, str]:
    """The killed run's processes still alive: the children it had ({pid: command line}), and
    any other process whose command line names its OUTPUT (one started after the list was taken)."""
    alive_now = {pid: command for pid, command in children.items() if alive(pid)}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            command = cmdline(int(entry.name))
            if str(output) in command and alive(int(entry.name)):
                alive_now[int(entry.name)] = command
    return alive_now


def kill_when(setup: dict, output: Path, ready: Callable[[subprocess.Popen, Path], bool]) -> dict[int, str]:
    """Start a report over ``output``, SIGKILL it once ``ready``; return its children then
    ({pid: command line})."""
    # the warehouse is dropped so that the load and the dbt build take their full time
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (output / name).unlink(missing_ok=True)
    # --force: the inputs are the previous set's, whose PDFs would be reused; the PDF workers
    # must be laying them out when the run is killed
    proc = subprocess.Popen(report_args(setup["raw"], output) + ["--force"], cwd=PROJECT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def reached() -> bool:
        if ready(proc, output):
            return True
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {ready.__name__} held"
        return False

    wait_until(reached, 300, f"the run to reach its stage ({ready.__name__})")
    children = {pid: cmdline(pid) for pid in descendants(proc.pid)}
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    return children


@pytest.mark.parametrize("stage, ready", [("load", in_load), ("load-dbt-ahead", in_load_with_dbt_ahead),
                                          ("dbt", in_dbt_with_workers), ("render", in_render)])
def test_a_killed_run_leaves_the_previous_set_and_no_process(setup: dict, stage: str, ready) -> None:
    output = previous_set(setup, f"out-{stage}")
    before = hashes(output / "2024")
    children = kill_when(setup, output, ready)
    if stage == "load-dbt-ahead":  # dbt's process, started ahead, was waiting for its command
        assert [c for c in children.values() if "dbt_process.py --wait " in c]
    if stage == "dbt":  # dbt's own process was running, and the PDF workers forked ahead of it
        assert [c for c in children.values() if "dbt_process.py" in c]
        assert [c for c in children.values() if " -m pipeline report " in c]
    if stage == "render":  # the PDF workers were running
        assert [c for c in children.values() if "pipeline" in c]
    wait_until(lambda: not survivors(children, output), CHILDREN_EXIT,
               lambda: f"the killed run's processes to exit; alive: {survivors(children, output)}")
    assert [p for p in children if alive(p)] == []
    assert hashes(output / "2024") == before and manifest_matches(output / "2024")
    rerun = run_report(setup["raw"], output)
    assert rerun.returncode == 0, rerun.stderr
    assert hashes(output / "2024") == setup["reference"]
    assert not (output / ".staging").exists()


def test_two_runs_on_one_output(setup: dict) -> None:
    output = setup["base"] / "out-concurrent"
    first = subprocess.Popen(report_args(setup["raw"], output), cwd=PROJECT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def loading() -> bool:
        if in_load(first, output):
            return True
        assert first.poll() is None, f"the first run ended (exit {first.returncode}) before it loaded"
        return False

    wait_until(loading, 120, "the first run to hold the lock and load")
    second = run_report(setup["raw"], output)
    assert first.wait(600) == 0
    assert second.returncode == 1
    assert f"error: {output} is in use by pid {first.pid} since " in second.stderr
    assert "(cx311 report --year 2024" in second.stderr
    assert hashes(output / "2024") == setup["reference"]
