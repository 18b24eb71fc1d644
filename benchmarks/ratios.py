"""Each stage's ratio to its floor: the floors' values in a run (the copy floor, the dbt no-op
build and the render floor as their in-process seconds; the report's floor as their sum; the
BIA batch's as BIAs × the BIA PDF floor's median ÷ the batch's workers), each stage's wall
time over the floor it names, the stage groups' totals, the BIA batch per PDF, and the cold
report's CPU against its floors'."""

from __future__ import annotations

from typing import Any

# the parts of the report's floor (its copy floor, dbt no-op build and render floor), by stage group
REPORT_FLOOR_PARTS = ("copy_floor", "dbt_noop_floor", "render_floor")


def _ok(stages: list[dict], group: str) -> dict | None:
    return next((s for s in stages if s["group"] == group and s["status"] == "ok"), None)


def bia_batch_floor(stages: list[dict]) -> float | None:
    """BIAs × the BIA PDF floor's median ÷ workers: the BIAs the batch rendered (``pdfs``) and its
    ``workers``, both read from the batch stage; None without the batch or the floor."""
    bia, fl = _ok(stages, "bia"), _ok(stages, "bia_floor")
    if bia is None or fl is None:
        return None
    info = bia.get("info") or {}
    pdfs, workers, per_pdf = info.get("pdfs"), info.get("workers"), fl["info"].get("pdf_median_s")
    if not pdfs or not workers or not per_pdf:
        return None
    return pdfs * per_pdf / workers


def floor_values(stages: list[dict], query_s: float) -> dict[str, float | None]:
    """The value of each floor (``names.FLOORS``) in this run, in seconds; None when not measured."""
    def inner(group: str) -> float | None:
        s = _ok(stages, group)
        return None if s is None else s.get("inner_s", s["wall_s"])

    copy, noop, render = (inner(group) for group in REPORT_FLOOR_PARTS)
    report = None if None in (copy, noop, render) else copy + noop + render  # type: ignore[operator]
    values = {"query": query_s, "copy": copy, "dbt_noop": noop, "render": render, "report": report,
              "bia_batch": bia_batch_floor(stages)}
    return {k: None if v is None else round(v, 3) for k, v in values.items()}


def cpu_against_floors(stages: list[dict]) -> dict[str, Any] | None:
    """The cold end to end's CPU (user + system of its processes, the kept run's) against the
    sum of its floor's parts' (the copy floor, the dbt no-op build and the render floor, each
    its kept run's), and the cores each kept busy on average (CPU ÷ wall time); None unless
    all four ran.

    When the report keeps the machine's cores busy, as on two cores, its wall time can only
    come closer to the floors' by spending less CPU: this ratio is then about the wall-time
    ratio, and says how much work the report does that no floor does."""
    found = [_ok(stages, group) for group in ("e2e", *REPORT_FLOOR_PARTS)]
    measured = [s for s in found if s is not None and s.get("cpu_s")]
    if len(measured) < len(found):
        return None
    e2e, *parts = measured
    cpu, wall = sum(s["cpu_s"] for s in parts), sum(s["wall_s"] for s in parts)
    return {"e2e_cpu_s": e2e["cpu_s"], "floors_cpu_s": round(cpu, 2),
            "parts_cpu_s": {group: s["cpu_s"] for group, s in zip(REPORT_FLOOR_PARTS, parts, strict=True)},
            "vs_floors": round(e2e["cpu_s"] / cpu, 2),
            "e2e_cores_busy": round(e2e["cpu_s"] / e2e["wall_s"], 2),
            "floors_cores_busy": round(cpu / wall, 2)}


def own_floor_ratios(stages: list[dict], floors: dict[str, float | None]) -> None:
    """Set ``vs_own_floor`` (wall time ÷ the value of the floor the stage names) on each measured
    stage whose floor was measured."""
    for s in stages:
        value = floors.get(s.get("floor") or "")
        if "wall_s" in s and value:
            s["vs_own_floor"] = round(s["wall_s"] / value, 4)


def bia_pdf_comparison(stages: list[dict], workers: int | None = None) -> dict[str, Any] | None:
    """The BIA batch's seconds per PDF against the BIA PDF floor, or None without both.

    Per PDF is the median the CLI prints (each report's HTML and PDF as its worker timed them,
    ``workers`` reports at a time); without it, the batch's wall time × ``workers`` / PDFs."""
    bia = next((s for s in stages if s["group"] == "bia" and "wall_s" in s), None)
    fl = next((s for s in stages if s["group"] == "bia_floor" and s["status"] == "ok"), None)
    if bia is None or fl is None:
        return None
    info = bia.get("info", {})
    workers = workers or info.get("workers") or 1  # the batch's own, unless given
    per_pdf, source = info.get("per_pdf_median_s"), "median of the per-report seconds the CLI prints"
    if per_pdf is None and info.get("pdfs"):
        per_pdf = bia["wall_s"] * workers / info["pdfs"]
        source = f"batch wall time × {workers} workers / {info['pdfs']} PDFs (the CLI printed no median)"
    if per_pdf is None:
        return None
    floor_s = fl["info"]["pdf_median_s"]
    return {"per_pdf_s": round(per_pdf, 3), "per_pdf_source": source, "workers": workers,
            "pdfs": info.get("pdfs"), "floor_s": round(floor_s, 3), "floor_bia": fl["info"]["bia"],
            "vs_floor": round(per_pdf / floor_s, 2) if floor_s else None}


def bia_pdf_note(c: dict[str, Any]) -> str:
    """'per-PDF median 0.61 s vs bare WeasyPrint floor 0.40 s (1.5×)' (what the figure is,
    when it is not the CLI's median)."""
    what = "median" if c["per_pdf_source"].startswith("median") else f"({c['per_pdf_source']})"
    ratio = "" if c["vs_floor"] is None else f" ({c['vs_floor']:.1f}×)"
    return f"per-PDF {what} {c['per_pdf_s']:.2f} s vs bare WeasyPrint floor {c['floor_s']:.2f} s{ratio}"


def stage_totals(stages: list[dict], floor_s: float, copy_s: float | None) -> dict[str, Any]:
    """Wall time, peak RSS and ratio to the floor of the stage groups (the copy floor's ratio
    for the cold load + ``dbt build``)."""
    def total(group: str, names: tuple[str, ...] | None = None) -> dict[str, float] | None:
        sel = [s for s in stages if s["group"] == group and "wall_s" in s
               and (names is None or any(s["name"].endswith(n) for n in names))]
        if not sel:
            return None
        wall = sum(s["wall_s"] for s in sel)
        return {"wall_s": round(wall, 3), "peak_rss_mb": max(s["peak_rss_mb"] for s in sel),
                "vs_floor": round(wall / floor_s, 2)}

    totals = {
        "report_stages": total("report"),
        "load_dbt_cold": total("report", ("load", "dbt build")),
        "rerun_nothing_new_load_dbt": total("rerun"),
        "one_new_month_load_dbt": total("month"),
    }
    if copy_s and totals["load_dbt_cold"]:
        totals["load_dbt_cold"]["vs_copy_floor"] = round(totals["load_dbt_cold"]["wall_s"] / copy_s, 2)
    return totals
