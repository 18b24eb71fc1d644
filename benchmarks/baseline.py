"""The bench against its baseline: ``benchmarks/baseline/<scale>.json`` is a committed bench
result of the same scale (and engine). Each stage's ratio to its own floor (``vs_own_floor``)
is compared with the baseline's: a stage whose ratio grew by more than ``THRESHOLD`` is a
regression. Ratios, not seconds, so that a machine that is slower for the floors too does not
count as one.

``python -m benchmarks.baseline --scale 1`` (``make bench-baseline SCALE=1``) makes the last
result (``output/bench/<scale>.json``) the baseline and rewrites the README's tables from it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from pipeline.paths import PROJECT_DIR

from .names import FLOORS, result_name

BASELINE_DIR = PROJECT_DIR / "benchmarks" / "baseline"
THRESHOLD = 0.15  # a ratio 15% above the baseline's; repeat runs vary by about 10%


def baseline_path(scale: float, engine_name: str | None = None) -> Path:
    return BASELINE_DIR / result_name(scale, engine_name)


def read_baseline(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def regressions(current: dict[str, Any], baseline: dict[str, Any] | None, source: str = "",
                threshold: float = THRESHOLD) -> dict[str, Any]:
    """The stages whose ratio to their floor grew by more than ``threshold`` against ``baseline``
    (same stage name, same floor, both measured), with how many stages were compared."""
    if baseline is None:
        return {"baseline": None, "threshold": threshold, "compared": 0, "grew": []}
    before = {s["name"]: s for s in baseline.get("stages", []) if s.get("vs_own_floor")}
    compared, grew = 0, []
    for s in current["stages"]:
        b = before.get(s["name"])
        if not b or not s.get("vs_own_floor") or b.get("floor") != s.get("floor"):
            continue
        compared += 1
        growth = s["vs_own_floor"] / b["vs_own_floor"] - 1
        if growth > threshold:
            grew.append({"name": s["name"], "floor": s["floor"], "baseline_ratio": b["vs_own_floor"],
                         "ratio": s["vs_own_floor"], "growth": round(growth, 4)})
    return {"baseline": source or None, "baseline_commit": baseline.get("commit"),
            "threshold": threshold, "compared": compared, "grew": grew}


def regression_lines(report: dict[str, Any]) -> list[str]:
    """What ``make bench`` prints about the baseline: one line per stage whose ratio grew, or
    one line saying none did (or that there is no baseline)."""
    if report["baseline"] is None:
        return ["no baseline of this scale (benchmarks/baseline/): nothing compared"]
    pct = f"{report['threshold']:.0%}"
    if not report["grew"]:
        return [f"against {report['baseline']}: no stage's ratio to its floor grew by more than {pct} "
                f"({report['compared']} stages compared)"]
    lines = [f"against {report['baseline']}: {len(report['grew'])} of {report['compared']} stages' ratio "
             f"to their floor grew by more than {pct}:"]
    for g in report["grew"]:
        lines.append(f"  REGRESSION {g['name']}: {g['ratio']:.2f}× the {FLOORS[g['floor']]}, was "
                     f"{g['baseline_ratio']:.2f}× (+{g['growth']:.0%})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline",
                                     description="make the last bench result the baseline, and rewrite the README's tables")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "output" / "bench",
                        help="where make bench wrote its result (default output/bench)")
    args = parser.parse_args(argv)
    source = args.out / result_name(args.scale, "duckdb")
    if not source.is_file():
        parser.error(f"{source} does not exist: run make bench SCALE={args.scale:g} first")
    BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, baseline_path(args.scale, "duckdb"))
    from .readme import write_readme

    write_readme()
    print(f"baseline: {baseline_path(args.scale, 'duckdb').relative_to(PROJECT_DIR)}; README tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
