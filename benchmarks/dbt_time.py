"""Where dbt's time goes: per node kind from ``run_results.json`` (``execution_time`` per node,
split into dbt's compile and execute steps), and around the nodes: the Python start of the
stage's process, the pipeline's work around dbt, dbt's start and parse (its wall time through
``run_dbt`` minus the ``elapsed_time`` of its run), the CPU of ``run_dbt``'s loop reading dbt's
JSON log lines, and the dbt no-op build (the floor).

``timed_run_dbt`` measures ``run_dbt`` inside a real ``build`` (child side); the rest is
arithmetic on the stages' JSON (parent side, and the README's tables)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# run_results' unique_id prefix → what the table calls it (in this order)
KINDS = {"model": "models", "test": "data tests", "seed": "seeds", "unit_test": "unit tests",
         "operation": "hooks", "exposure": "exposures"}


def read_run_results(work_dir: Path) -> dict[str, Any] | None:
    """``<work_dir>/dbt_target/run_results.json`` of the last dbt run there, or None."""
    path = Path(work_dir) / "dbt_target" / "run_results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _step_seconds(result: dict[str, Any], step: str) -> float:
    for t in result.get("timing") or []:
        if t.get("name") == step and t.get("started_at") and t.get("completed_at"):
            done = dt.datetime.fromisoformat(t["completed_at"]) - dt.datetime.fromisoformat(t["started_at"])
            return done.total_seconds()
    return 0.0


def node_kinds(run_results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per node kind (``KINDS`` order, then any other prefix): nodes, and the sums of their
    ``execution_time`` and of their compile and execute steps, in seconds (rounded to ms)."""
    sums: dict[str, dict[str, float]] = {}
    for r in run_results.get("results", []):
        kind = r["unique_id"].split(".", 1)[0]
        s = sums.setdefault(kind, {"nodes": 0, "execution_s": 0.0, "compile_s": 0.0, "execute_s": 0.0})
        s["nodes"] += 1
        s["execution_s"] += r.get("execution_time") or 0.0
        s["compile_s"] += _step_seconds(r, "compile")
        s["execute_s"] += _step_seconds(r, "execute")
    order = [k for k in KINDS if k in sums] + sorted(set(sums) - set(KINDS))
    return {k: {n: (v if n == "nodes" else round(v, 3)) for n, v in sums[k].items()} for k in order}


def slowest_nodes(run_results: dict[str, Any] | None, top: int = 8) -> list[list]:
    """The ``top`` slowest nodes (unique_id, seconds), then the sum of all and the count."""
    results = (run_results or {}).get("results", [])
    nodes = sorted(((r["unique_id"], round(r.get("execution_time") or 0.0, 2)) for r in results),
                   key=lambda r: -r[1])
    return [list(n) for n in nodes[:top]] + [["all nodes (sum)", round(sum(n[1] for n in nodes), 2)],
                                             ["nodes", len(nodes)]]


@contextlib.contextmanager
def timed_run_dbt(record: dict[str, Any]) -> Iterator[None]:
    """Within the block, each ``pipeline.transform.run_dbt`` call (the one ``build`` makes) is
    timed into ``record``: its wall seconds, this process's CPU seconds meanwhile (the loop
    reading and parsing dbt's JSON log lines: the process does nothing else while dbt runs),
    dbt's own CPU seconds, and the lines of log it returned. The real function runs."""
    from pipeline import transform

    real = transform.run_dbt

    def timed(*args: Any, **kwargs: Any) -> str:
        own, child = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        output = real(*args, **kwargs)
        wall = time.perf_counter() - start
        own2, child2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        record.update(
            run_dbt_s=round(wall, 3),
            event_loop_cpu_s=round(own2.ru_utime + own2.ru_stime - own.ru_utime - own.ru_stime, 3),
            dbt_cpu_s=round(child2.ru_utime + child2.ru_stime - child.ru_utime - child.ru_stime, 3),
            log_lines=output.count("\n"))
        return output

    transform.run_dbt = timed
    try:
        yield
    finally:
        transform.run_dbt = real


def dbt_info(record: dict[str, Any], run_results: dict[str, Any] | None) -> dict[str, Any]:
    """What a dbt stage keeps in its info: ``timed_run_dbt``'s record, dbt's ``elapsed_time``
    and the node kinds."""
    rr = run_results or {}
    return {**record, "elapsed_s": None if rr.get("elapsed_time") is None else round(rr["elapsed_time"], 3),
            "kinds": node_kinds(rr)}


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def breakdown(stage: dict[str, Any] | None, noop_s: float | None) -> dict[str, Any] | None:
    """The parts of one dbt stage (a ``dbt build`` or the unit tests) whose info has ``dbt``:

    - ``python_start_s``: stage wall − the in-process call (interpreter and imports);
    - ``around_dbt_s``: the in-process call − ``run_dbt`` (fingerprints, bookkeeping);
    - ``dbt_outside_run_s``: ``run_dbt`` − dbt's ``elapsed_time`` (dbt's start, imports, parse,
      writing its manifest; the no-op build, ``noop_s``, is the floor of this part);
    - ``dbt_run_s``: dbt's ``elapsed_time``, of which ``kinds`` (node times overlap on dbt's
      threads, so their sum can exceed it);
    - ``event_loop_cpu_s``: the CPU of ``run_dbt``'s loop parsing the JSON log lines."""
    if not stage or stage.get("status") != "ok" or not (stage.get("info") or {}).get("dbt"):
        return None
    d = stage["info"]["dbt"]
    return {"stage_wall_s": stage["wall_s"], "python_start_s": _minus(stage["wall_s"], stage.get("inner_s")),
            "around_dbt_s": _minus(stage.get("inner_s"), d.get("run_dbt_s")),
            "dbt_outside_run_s": _minus(d.get("run_dbt_s"), d.get("elapsed_s")), "noop_floor_s": noop_s,
            "dbt_run_s": d.get("elapsed_s"), "kinds": d.get("kinds") or {},
            "event_loop_cpu_s": d.get("event_loop_cpu_s"), "log_lines": d.get("log_lines"),
            "dbt_cpu_s": d.get("dbt_cpu_s")}


def dbt_time(stages: list[dict[str, Any]], columns: dict[str, str], noop_s: float | None) -> dict[str, Any]:
    """``breakdown`` of each stage named in ``columns`` (label → stage name) that ran dbt."""
    by_name = {s["name"]: s for s in stages}
    parts = {label: breakdown(by_name.get(name), noop_s) for label, name in columns.items()}
    return {label: b for label, b in parts.items() if b is not None}
