"""The budgets of issue 26: ratios to floors measured in the same run, and the few absolute
limits left (end to end and one new month at SCALE=10). The absolute budgets of the earlier
rounds are withdrawn. A budget applies at the scales it names; at any other scale a run has
none (its measures are still in the JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .names import E2E_STAGE, LOAD_STAGE, MAPPED_CSV_STAGE, MAPPED_STAGE, PREVIEW_STAGE, RERUN_REPORT


@dataclass(frozen=True)
class Budget:
    key: str
    name: str
    unit: str
    limits: dict[float, float]  # scale → limit


BUDGETS = (
    Budget("e2e_vs_floors", "cold python -m pipeline report vs (copy floor + dbt no-op build + render floor)",
           "×", {1.0: 1.5}),
    Budget("load_vs_copy_floor", "load vs the copy floor", "×", {10.0: 1.6}),
    Budget("e2e_s", "cold end to end (python -m pipeline report)", "s", {10.0: 100.0}),
    Budget("peak_mb", "peak memory of the cold end to end", "MB", {10.0: 4096.0}),
    Budget("new_month_s", "one new month: load + dbt build", "s", {10.0: 15.0}),
    Budget("bia_vs_floor", "BIA batch vs (BIAs × per-PDF floor ÷ workers)", "×", {1.0: 1.15}),
    # other issues' budgets, kept while they are measured
    Budget("mapped_vs_csv", "load of the year's SRs through a mapping vs the same rows as contract CSV",
           "×", {1.0: 1.5}),
    Budget("rerun_report_s", "rerun, nothing new: python -m pipeline report", "s", {1.0: 2.0}),
    Budget("preview_render_s", "preview: the documents' HTML rendered again after a save", "s",
           {1.0: 1.0, 10.0: 1.0}),
)


def _stage(stages: list[dict], name: str) -> dict:
    return next((s for s in stages if s["name"] == name and s.get("status") == "ok"), {})


def _inner_ratio(a: dict, b: dict) -> float | None:
    """In-process seconds of stage ``a`` over ``b`` (None unless both ran)."""
    return a["inner_s"] / b["inner_s"] if a.get("inner_s") and b.get("inner_s") else None


def budget_measures(stages: list[dict], totals: dict[str, Any]) -> dict[str, float | None]:
    """What each budget (``Budget.key``) measures in this run; None when not measured.

    The ratios are the stages' own-floor ratios (``vs_own_floor``: wall time over the floor's
    value, ``benchmarks.ratios``), except the mapped load's: in-process seconds of both loads."""
    e2e, load = _stage(stages, E2E_STAGE), _stage(stages, LOAD_STAGE)
    bia = next((s for s in stages if s["group"] == "bia" and s.get("status") == "ok"), {})
    return {
        "e2e_vs_floors": e2e.get("vs_own_floor"),
        "load_vs_copy_floor": load.get("vs_own_floor"),
        "e2e_s": e2e.get("wall_s"),
        "peak_mb": e2e.get("peak_rss_mb"),
        "new_month_s": (totals.get("one_new_month_load_dbt") or {}).get("wall_s"),
        "bia_vs_floor": bia.get("vs_own_floor"),
        "mapped_vs_csv": _inner_ratio(_stage(stages, MAPPED_STAGE), _stage(stages, MAPPED_CSV_STAGE)),
        "rerun_report_s": _stage(stages, RERUN_REPORT).get("wall_s"),
        "preview_render_s": _stage(stages, PREVIEW_STAGE).get("inner_s"),
    }


def budget_rows(scale: float, measures: dict[str, float | None]) -> list[dict[str, Any]]:
    """The budget rows of ``scale`` (key, name, limit, unit, measured, met); [] at a scale
    without budgets. ``met`` is None when the measure was not taken (a skipped stage)."""
    rows = []
    for b in BUDGETS:
        limit = b.limits.get(float(scale))
        if limit is None:
            continue
        measured = measures.get(b.key)
        rows.append({"key": b.key, "name": b.name, "limit": limit, "unit": b.unit,
                     "measured": None if measured is None else round(measured, 2),
                     "met": None if measured is None else measured <= limit})
    return rows
