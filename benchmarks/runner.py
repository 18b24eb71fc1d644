"""The bench's stages, parent side: each stage runs in its own process, reaped with
``os.wait4`` so that its wall time and peak resident memory (``ru_maxrss`` of the process and
the processes it waited for, e.g. dbt) are its own; and what the CLI runs printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.paths import PROJECT_DIR


def run_measured(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; return its exit code, wall seconds and peak RSS (MB) from ``os.wait4``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=PROJECT_DIR, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    # Linux: ru_maxrss in KiB, the max over the child and the descendants it waited for
    return {"returncode": proc.returncode, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024.0,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Bench:
    """Runs stages as subprocesses and collects their measurements."""

    def __init__(self, base: Path, verbose: bool = True):
        self.base = base
        self.logs = base / "logs"
        self.stages: list[dict[str, Any]] = []
        self.verbose = verbose
        self._n = 0

    def _record(self, name: str, group: str, floor: str | None, m: dict[str, Any], info: dict[str, Any],
                log: Path) -> dict:
        entry = {"name": name, "group": group, "floor": floor,
                 "status": "ok" if m["returncode"] == 0 else "failed",
                 "wall_s": round(m["wall_s"], 3), "peak_rss_mb": round(m["peak_rss_mb"], 1),
                 "cpu_s": round(m["cpu_s"], 2)}
        inner = info.pop("inner_s", None)
        if inner is not None:
            entry["inner_s"] = round(inner, 3)
        entry["info"] = info
        if m["returncode"] != 0:
            entry["error"] = _tail(log)
        self.stages.append(entry)
        if self.verbose:
            print(f"  {name:<44} {entry['wall_s']:8.2f} s  {entry['peak_rss_mb']:8.0f} MB  "
                  f"{entry['status']}", file=sys.stderr, flush=True)
        return entry

    def child(self, name: str, group: str, stage: str, params: dict[str, Any],
              floor: str | None = "query") -> dict[str, Any]:
        """Run one library stage in ``python -m benchmarks.stages``; ``floor``: the key of the
        floor (``names.FLOORS``) its time is divided by, None for a set-up stage."""
        self._n += 1
        log = self.logs / f"{self._n:02d}-{stage}.log"
        result = self.logs / f"{self._n:02d}-{stage}.json"
        result.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "benchmarks.stages", "--child", stage,
               "--params", json.dumps(params, default=str), "--result", str(result)]
        m = run_measured(cmd, log)
        info = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
        return self._record(name, group, floor, m, info, log)

    def cli(self, name: str, group: str, args: list[str],
            parse: Callable[[str], dict[str, Any]] | None = None, floor: str | None = "query") -> dict[str, Any]:
        """Run ``python -m pipeline <args>`` (what ``make`` runs); parse its stage timings, and
        with ``parse`` whatever else it prints into the stage's info."""
        self._n += 1
        log = self.logs / f"{self._n:02d}-cli-{args[0]}.log"
        m = run_measured([sys.executable, "-m", "pipeline", *args], log)
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        timings = {k: float(v) for k, v in re.findall(r"^([a-z][a-z ]+): ([0-9.]+) s$", text, re.M)}
        info = {"stage_timings_s": timings, **(parse(text) if parse else {})}
        return self._record(name, group, floor, m, info, log)

    def rounds(self, runs: int,
               measures: list[tuple[Callable[[], dict[str, Any]], Callable[[], None] | None]]) -> list[dict[str, Any]]:
        """Run the stages of ``measures`` (each one ``child`` or ``cli`` call, with what to do
        ``before`` it) in turn, ``runs`` rounds; keep one entry per stage, in their order: the
        run whose own time (``inner_s``, else ``wall_s``) is its median, with every run's times
        in its info (``runs``) and the largest peak memory. A stage whose run failed is kept
        as it failed, and the rounds stop.

        Why: on this shared machine one run's time moves by 10-30% from one minute to the next
        (README, Performance), and a budget divides one stage's time by floors measured at
        other moments. Stages run in turn sample the same minutes; medians move less."""
        first = len(self.stages)
        taken: list[list[dict[str, Any]]] = [[] for _ in measures]
        for _ in range(runs):
            for i, (measure, before) in enumerate(measures):
                if before is not None:
                    before()
                taken[i].append(measure())
            if any(e["status"] != "ok" for runs_of in taken for e in runs_of):
                break
        del self.stages[first:]
        kept = []
        for measured in taken:
            failed = next((e for e in measured if e["status"] != "ok"), None)
            if failed is not None:
                self.stages.append(failed)
                kept.append(failed)
                continue
            ranked = sorted(measured, key=lambda e: e.get("inner_s", e["wall_s"]))
            entry = dict(ranked[(len(ranked) - 1) // 2])
            entry["peak_rss_mb"] = max(e["peak_rss_mb"] for e in measured)
            entry["info"] = {**entry["info"], "runs": [{k: e[k] for k in ("wall_s", "inner_s", "cpu_s") if k in e}
                                                       for e in measured]}
            self.stages.append(entry)
            kept.append(entry)
            if self.verbose and len(measured) > 1:
                print(f"  {entry['name']:<44} {entry['wall_s']:8.2f} s  median of {len(measured)}",
                      file=sys.stderr, flush=True)
        return kept

    def absent(self, name: str, group: str, status: str) -> dict[str, Any]:
        entry = {"name": name, "group": group, "floor": None, "status": status}
        self.stages.append(entry)
        if self.verbose:
            print(f"  {name:<44} {status}", file=sys.stderr, flush=True)
        return entry


def bia_cli_figures(text: str) -> dict[str, Any]:
    """What ``python -m pipeline bia`` printed (``pipeline.bia.summary_lines``): reports rendered
    and failed, the batch's seconds and the median and max seconds per report (each report's
    HTML and PDF, timed in its worker by ``render_one``); keys it did not print are left out."""
    out: dict[str, Any] = {}
    m = re.search(r"^BIA reports for \S+: (\d+) rendered, (\d+) failed, in ([0-9.]+) s$", text, re.M)
    if m:
        out.update(pdfs=int(m.group(1)), failed=int(m.group(2)), batch_s=float(m.group(3)))
    m = re.search(r"render time per report: median ([0-9.]+) s, max ([0-9.]+) s", text)
    if m:
        out.update(per_pdf_median_s=float(m.group(1)), per_pdf_max_s=float(m.group(2)))
    m = re.search(r"PDFs reused from the published set \(.*?\): (\d+); laid out again: (.+)$", text, re.M)
    if m:
        out.update(pdfs_reused=int(m.group(1)),
                   laid_out=[] if m.group(2) == "none" else m.group(2).split(", "))
    return out


def reuse_figures(text: str) -> dict[str, Any]:
    """Which PDFs ``python -m pipeline report`` reused and laid out (what it printed)."""
    out: dict[str, Any] = {}
    m = re.search(r"^  reused the published PDF \(.*?\): (.+)$", text, re.M)
    out["reused"] = m.group(1).split(", ") if m else []
    m = re.search(r"^  laid out: (.+)$", text, re.M)
    out["laid_out"] = [] if m is None or m.group(1) == "none" else m.group(1).split(", ")
    return out
