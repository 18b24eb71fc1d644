"""BIA monthly reports: one accessible HTML + PDF/UA-1 report per Business Improvement Area.

Public interface::

    month_data(db_path, month) -> MonthData          # figures of every BIA in the seed
    run_batch(db_path, raw_dir, out_root, month, workers=2, only=None, published=None,
              force=False) -> BatchResult

``run_batch`` writes to ``<out_root>/bia/<YYYY-MM>/``: ``<bia-slug>.html`` and ``.pdf`` for every
BIA in the seed (``dbt_project/seeds/bias.csv``; a BIA with no SRs in the month gets a report
that says so), ``index.html`` listing them, ``bia_metrics.json`` (one object per BIA, values
unrounded) and ``manifest.json``. Reports render in parallel (one process per core). A BIA
that fails to render does not stop the others; the result names it and the CLI exits
non-zero. Every file is written to a temporary name and renamed into place, and the same
warehouse gives byte-identical files on every run. A report whose print HTML (and what it
embeds) is unchanged since the published set (``published``: its folder) is not laid out
again: its PDF is copied from there (``pipeline.report.pdf.Layouts``; ``force`` lays out all).

Every figure comes from the dbt marts ``mart_bia_monthly``, ``mart_bia_monthly_top_types``,
``mart_bia_monthly_status``, ``mart_bia_top_locations`` and ``mart_bia_open_requests``; nothing
is computed here beyond picking rows. The types' shares and ties, the closed requests with a
standard and the statuses' date are the report's only: bia_metrics.json keeps the shape
docs/metrics.md gives. The 311 contact of each BIA comes from ``raw/reference/bia_liaisons.csv``
(``pipeline/bia/liaisons.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import multiprocessing
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..contract import is_demo
from ..errors import CxError
from ..files import atomic_write
from ..manifest import write_manifest
from ..report.environment import ENV
from ..report.formatting import (
    MONTHS,
    ROUNDING_EXCEPTIONS,
    ROUNDING_RULE,
    fmt_month,
    fmt_short_date,
    fmt_thousands,
    fmt_year_over_year,
    setting_words,
)
from ..report.pdf import Layouts, html_to_pdf, layout_key, pdf_worker_init, reuse_pdf, source_date
from ..report.styles import stylesheet, with_names
from ..warehouse import input_files, reading, settings
from ..warehouse import rows as query
from .liaisons import Liaison, read_liaisons

# The dbt exposure of the BIA reports (dbt_project/models/marts/_exposures.yml): `bia` builds
# only the models it reads.
EXPOSURE = "bia_monthly_reports"
MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
TREND_MONTHS = 13
STATUS_LABELS = {
    "initiated": "Initiated (new)",
    "in_progress": "In progress",
    "closed": "Closed",
    "cancelled": "Cancelled",
    "unknown": "Status unknown",
}
QUARTER_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth"}


Progress = Callable[[str, int, int], None]  # (report just finished, done, total)


class BiaError(CxError):
    """A BIA batch cannot run (bad month, no data for the month, no warehouse)."""

    exit_code = 2  # a month or BIA the data does not hold


# --------------------------------------------------------------------------- data


def parse_month(month: str) -> dt.date:
    """'2024-07' → date(2024, 7, 1); anything else raises BiaError."""
    m = MONTH_RE.fullmatch(str(month).strip())
    if not m:
        raise BiaError(f"month must look like 2024-07, not {month!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def shift_month(d: dt.date, months: int) -> dt.date:
    index = d.year * 12 + d.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_key(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def slugify(name: str) -> str:
    """'Church-Wellesley Village BIA' → 'church-wellesley-village-bia' (ASCII, stable)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = ascii_name.replace("&", " and ").replace("'", "").replace("\u2019", "")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "bia"


def typed_name_key(name: str) -> str:
    """The matching key of a BIA name a person typed, which never reaches the warehouse (a
    ``--bia`` option, a row of bia_contacts.csv): case and spacing ignored, ' BIA' optional.
    The warehouse keys its names with dbt's ``bia_key`` macro (``mart_bia_directory.bia_key``);
    tests/unit/test_dbt_project.py holds this to the macro's spellings and matches."""
    return re.sub(r"\s+bia$", "", re.sub(r"\s+", " ", str(name)).strip().lower())


@dataclass
class MonthData:
    month: str
    records: list[dict[str, Any]]              # bia_metrics.json objects, sorted by bia_name
    top_types: dict[str, list[dict[str, Any]]]  # name → {sr_type, count, share, tied} (the report's table)
    trends: dict[str, list[dict[str, Any]]]    # name → 13 {month, service_requests|None}
    extents: dict[str, str]                    # name → the area, '' when it only repeats the name
    keys: dict[str, str]                       # name → bia_key
    city_service_requests: int | None
    closing_times_available: bool
    unknown_names: list[dict[str, Any]]        # {bia_raw, service_requests, in_month}
    settings: dict[str, Any] = field(default_factory=dict)  # the city profile's, as the build used them
    # name → what only the report shows: closed_with_standard, without_location
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_as_of: str | None = None            # YYYY-MM-DD: the date the statuses are as of
    standards_illustrative: bool = False       # the on-time standards are the shipped illustrative ones


def status_list(counts: dict[str, int]) -> list[dict[str, Any]]:
    """{status: count} → [{status, count}] in the order initiated, in_progress, closed,
    cancelled, unknown (any other status after them, alphabetical); statuses without SRs left out."""
    order = {key: i for i, key in enumerate(STATUS_LABELS)}
    return [{"status": key, "count": counts[key]}
            for key in sorted(counts, key=lambda k: (order.get(k, len(order)), k)) if counts[key]]


def month_data(db_path: Path, month: str) -> MonthData:
    """Every seed BIA's figures for ``month`` (YYYY-MM) from the marts, plus 13-month trends."""
    first = parse_month(month)
    start = shift_month(first, -(TREND_MONTHS - 1))
    with reading(db_path) as con:
        rows = query(
            con,
            "SELECT bia_name, service_requests, without_location, quarter_to_date, year_to_date, previous_month, "
            "change_vs_previous_month, same_month_prior_year, change_vs_same_month_prior_year, "
            "closing_times_available, closed_in_month, closed_with_standard, median_days_to_close, "
            "on_time_rate, open_at_month_end, share_of_city, strftime(status_as_of, '%Y-%m-%d') AS status_as_of "
            "FROM marts.mart_bia_monthly WHERE report_month = ? ORDER BY bia_name",
            [first],
        )
        if not rows:
            span = con.execute(
                "SELECT strftime(min(report_month), '%Y-%m'), strftime(max(report_month), '%Y-%m') "
                "FROM marts.mart_bia_monthly"
            ).fetchone()
            raise BiaError(
                f"the extracts hold no service requests for {month}"
                + (f" (they cover {span[0]} to {span[1]})" if span and span[0] else "")
            )
        top = query(
            con,
            "SELECT bia_name, sr_type, service_requests AS count, share, types_with_this_count AS tied "
            "FROM marts.mart_bia_monthly_top_types WHERE report_month = ? ORDER BY bia_name, type_rank",
            [first],
        )
        locations = query(
            con,
            "SELECT bia_name, location, service_requests AS count "
            "FROM marts.mart_bia_top_locations WHERE report_month = ? ORDER BY bia_name, location_rank",
            [first],
        )
        open_requests = query(
            con,
            "SELECT bia_name, sr_type, strftime(created_date, '%Y-%m-%d') AS created_date, age_days, location "
            "FROM marts.mart_bia_open_requests WHERE report_month = ? ORDER BY bia_name, open_rank",
            [first],
        )
        illustrative = con.execute(
            "SELECT count(*) FROM marts.mart_service_standards WHERE illustrative").fetchone()[0]
        status = query(
            con,
            "SELECT bia_name, status, service_requests FROM marts.mart_bia_monthly_status "
            "WHERE report_month = ? ORDER BY bia_name, status",
            [first],
        )
        trend = query(
            con,
            "SELECT bia_name, strftime(report_month, '%Y-%m') AS month, service_requests "
            "FROM marts.mart_bia_monthly WHERE report_month BETWEEN ? AND ? ORDER BY bia_name, report_month",
            [start, first],
        )
        directory = query(con, "SELECT bia_name, bia_key, extent, extent_repeats_name FROM marts.mart_bia_directory")
        city = con.execute(
            "SELECT coalesce(sum(service_requests), 0) FROM marts.mart_sr_monthly WHERE created_month = ?",
            [first],
        ).fetchone()
        unknown = query(
            con,
            "SELECT bia_raw, sum(service_requests) AS service_requests, "
            "coalesce(sum(service_requests) FILTER (WHERE created_month = ?), 0) AS in_month "
            "FROM marts.mart_bia_unmatched_names GROUP BY bia_raw ORDER BY bia_raw",
            [first],
        )
        used = settings(con)
    closing = rows[0]["closing_times_available"]  # the month's, the same for every BIA
    top_by: dict[str, list[dict]] = {}
    for r in top:
        top_by.setdefault(r["bia_name"], []).append({k: r[k] for k in ("sr_type", "count", "share", "tied")})
    locations_by: dict[str, list[dict]] = {}
    for r in locations:
        locations_by.setdefault(r["bia_name"], []).append({"location": r["location"], "count": r["count"]})
    open_by: dict[str, list[dict]] = {}
    for r in open_requests:
        open_by.setdefault(r["bia_name"], []).append(
            {k: r[k] for k in ("sr_type", "created_date", "age_days", "location")})
    status_by: dict[str, dict[str, int]] = {}
    for r in status:
        status_by.setdefault(r["bia_name"], {})[r["status"]] = r["service_requests"]
    trend_by: dict[str, dict[str, int]] = {}
    for r in trend:
        trend_by.setdefault(r["bia_name"], {})[r["month"]] = r["service_requests"]
    months = [month_key(shift_month(start, i)) for i in range(TREND_MONTHS)]

    records = []
    for r in sorted(rows, key=lambda r: (r["bia_name"].casefold(), r["bia_name"])):
        name = r["bia_name"]
        records.append({
            "bia_name": name,
            "month": month_key(first),
            "service_requests": r["service_requests"],
            "quarter_to_date": r["quarter_to_date"],
            "year_to_date": r["year_to_date"],
            "previous_month": r["previous_month"],
            "change_vs_previous_month": r["change_vs_previous_month"],
            "same_month_prior_year": r["same_month_prior_year"],
            "change_vs_same_month_prior_year": r["change_vs_same_month_prior_year"],
            "top_types": [{"sr_type": t["sr_type"], "count": t["count"]} for t in top_by.get(name, [])],
            "top_locations": locations_by.get(name, []),
            "by_status": status_list(status_by.get(name, {})),
            # 0 when nothing was closed in the month; null only without closing times
            "closed_in_month": r["closed_in_month"],
            "median_days_to_close": r["median_days_to_close"],
            "on_time_rate": r["on_time_rate"],
            "open_at_month_end": r["open_at_month_end"],
            # the oldest still open at month end (mart_bia_open_requests); null without closing times
            "open_requests": open_by.get(name, []) if r["closing_times_available"] else None,
            "share_of_city": r["share_of_city"],
        })
    trends = {
        name: [{"month": m, "service_requests": by_month.get(m)} for m in months]
        for name, by_month in ((rec["bia_name"], trend_by.get(rec["bia_name"], {})) for rec in records)
    }
    return MonthData(
        month=month_key(first),
        records=records,
        top_types=top_by,
        trends=trends,
        extents={d["bia_name"]: "" if d["extent_repeats_name"] else d["extent"] or "" for d in directory},
        keys={d["bia_name"]: d["bia_key"] for d in directory},
        city_service_requests=city[0] or None,
        closing_times_available=closing,
        unknown_names=unknown,
        settings=used,
        extra={r["bia_name"]: {"closed_with_standard": r["closed_with_standard"],
                               "without_location": r["without_location"]} for r in rows},
        status_as_of=rows[0]["status_as_of"],
        standards_illustrative=illustrative > 0,
    )


# --------------------------------------------------------------------------- chart


def trend_chart(name: str, trend: list[dict], month: str) -> str:
    """The BIA's 13-month trend chart (``pipeline.report.charts.trend_svg``), '' without data.

    Altair and vl-convert are imported at the first chart, not with this module: the charts are
    drawn in the parent, after the workers have forked (see ``run_batch``).
    """
    from ..report.charts import trend_svg

    return trend_svg(name, trend, month) or ""


# --------------------------------------------------------------------------- rendering


def bia_stylesheet(output: str, words: dict[str, str]) -> Markup:
    """The reports' stylesheet for the output ('html': fonts embedded) plus css/bia.css, with
    the city profile's names (``setting_words``) in the running heads."""
    return Markup(with_names(stylesheet(output, "bia.css"), words))


def _period_words(first: dt.date) -> dict[str, str]:
    last_day = (shift_month(first, 1) - dt.timedelta(days=1)).day
    name = MONTHS[first.month - 1]
    q = (first.month - 1) // 3 + 1
    q_first = MONTHS[(q - 1) * 3]
    return {
        "month_label": f"{name} {first.year}",
        "month_name": name,
        "period": f"{name} 1 to {last_day}, {first.year}",
        "month_end": f"{name} {last_day}, {first.year}",
        "prior_label": f"{name} {first.year - 1}",
        "previous_label": fmt_month(month_key(shift_month(first, -1))),
        "quarter_starts": first.month % 3 == 1,  # quarter to date is this month alone: not shown
        "quarter": f"Q{q} {first.year}",
        "quarter_span": (f"Q{q} {first.year}: {q_first} to {name}" if q_first != name
                         else f"Q{q} {first.year}: {name} only"),
        "year_span": (f"{first.year}: January to {name}" if first.month > 1
                      else f"{first.year}: January only"),
    }


def change_words(rec: dict[str, Any], prior_label: str) -> str | None:
    """'26% fewer than the 61 in July 2023', 'up from 0 in July 2023', …; None: no prior data."""
    return fmt_year_over_year(rec["service_requests"], rec["same_month_prior_year"],
                              rec["change_vs_same_month_prior_year"], f"in {prior_label}")


def previous_month_words(rec: dict[str, Any], previous_label: str) -> str | None:
    """'7% fewer than the 53 in June 2024', …; None: the month before is not in the data."""
    return fmt_year_over_year(rec["service_requests"], rec.get("previous_month"),
                              rec.get("change_vs_previous_month"), f"in {previous_label}")


def _count_words(n: int) -> str:
    return {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine",
            10: "Ten"}.get(n, f"{n:,}")


def top_type_sentence(top_rows: list[dict[str, Any]]) -> Markup | None:
    """The lead's sentence on the month's most frequent request type, never naming one type when
    others have the same count (``tied``: how many of the BIA's types have it, listed or not):

    - 'The most frequent request was <strong>Graffiti</strong> (4).'
    - 'The most frequent requests were <strong>A</strong> and <strong>B</strong> (3 each).'
    - 'Five request types had 1 request each; none had more.'
    """
    if not top_rows:
        return None
    first, tied = top_rows[0], int(top_rows[0].get("tied") or 1)
    count = fmt_thousands(first["count"])
    if tied == 1:
        return Markup("The most frequent request was <strong>{}</strong> ({}).").format(first["sr_type"], count)
    listed = [t for t in top_rows if t["count"] == first["count"]]
    if len(listed) == tied and tied <= 3:
        names = Markup(", ").join(Markup("<strong>{}</strong>").format(t["sr_type"]) for t in listed[:-1])
        return Markup("The most frequent requests were {} and <strong>{}</strong> ({} each).").format(
            names, listed[-1]["sr_type"], count)
    noun = "request" if first["count"] == 1 else "requests"
    return Markup("{} request types had {} {} each; none had more.").format(_count_words(tied), count, noun)


def report_context(job: dict[str, Any], output: str) -> dict[str, Any]:
    rec = job["record"]
    first = parse_month(rec["month"])
    words = _period_words(first)
    names = setting_words(job["settings"])  # the city profile's names
    name = rec["bia_name"]
    demo = bool(job.get("demo"))
    title = f"{name}: 311 service requests, {words['month_label']}"
    if demo:
        title += " (synthetic demo data)"
    status_rows = [
        {"status": s["status"], "count": s["count"],
         "label": STATUS_LABELS.get(s["status"]) or s["status"].replace("_", " ").capitalize()}
        for s in rec["by_status"] if s["count"]
    ]
    trend = [
        {**t, "label": fmt_month(t["month"]), "current": t["month"] == rec["month"]}
        for t in job["trend"]
    ]
    svg = job.get("_svg")
    if svg is None:
        svg = job["_svg"] = trend_chart(name, job["trend"], rec["month"])
    return {
        "output": output,
        "stylesheet": bia_stylesheet(output, names),
        "title": title,
        "description": (f"{names['service']}'s monthly service request report for {name}, "
                        f"{words['period']}."),
        "author": names["author"],
        "words": names,
        "year": first.year,
        "demo": demo,
        "source_date": source_date(),
        "r": rec,
        "name": name,
        "extent": job.get("extent") or "",
        "w": words,
        "change_words": change_words(rec, words["prior_label"]),
        "previous_words": previous_month_words(rec, words["previous_label"]),
        "top_sentence": top_type_sentence(job["top_types"]),
        "locations": rec.get("top_locations") or [],
        "open_rows": rec.get("open_requests") or [],
        # open at month end beyond the oldest listed: "and N more"
        "open_more": max(0, (rec.get("open_at_month_end") or 0) - len(rec.get("open_requests") or [])),
        "extra": job.get("extra") or {},
        "status_as_of": fmt_short_date(job["status_as_of"]) if job.get("status_as_of") else None,
        # the rounding rule and the BIA report's exception (share of city: two decimals)
        "rounding": f"{ROUNDING_RULE} {ROUNDING_EXCEPTIONS['bia_share_of_city']}",
        "standards_illustrative": bool(job.get("standards_illustrative")),
        "liaison": job.get("liaison"),
        "public_contact": job.get("public_contact"),
        "show_extent": bool(job.get("extent")),
        "top_rows": job["top_types"],
        "status_rows": status_rows,
        "status_total": sum(r["count"] for r in status_rows),
        "status_cancelled": any(r["status"] == "cancelled" for r in status_rows),
        "trend": trend,
        "trend_svg": Markup(svg) if svg else None,
        "closing_available": bool(job.get("closing_times_available")),
        "city_total": job.get("city_service_requests"),
        "generated_from": list(job.get("generated_from") or []),
    }


def render_bia_html(job: dict[str, Any], output: str) -> str:
    return ENV.get_template("bia_report.html").render(**report_context(job, output))


def render_one(job: dict[str, Any]) -> dict[str, Any]:
    """Render one BIA's HTML and PDF into job['out_dir'] (the PDF copied from the published set
    when ``job['published']`` was laid out from the same print HTML); return slug, paths,
    seconds, the PDF's layout key and whether it was reused."""
    start = time.perf_counter()
    out_dir = Path(job["out_dir"])
    html = render_bia_html(job, "html")
    print_html = render_bia_html(job, "pdf")
    key = layout_key(print_html)
    pdf = reuse_pdf(job.get("published"), key)
    reused = pdf is not None
    if pdf is None:
        pdf = html_to_pdf(print_html)
    html_path = out_dir / f"{job['slug']}.html"
    pdf_path = out_dir / f"{job['slug']}.pdf"
    atomic_write(html_path, html.encode("utf-8"))
    atomic_write(pdf_path, pdf)
    return {"slug": job["slug"], "paths": [str(html_path), str(pdf_path)],
            "seconds": time.perf_counter() - start, "layout": key, "reused": reused}


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    # looked up at call time so a test can replace render_one (workers are forked)
    return sys.modules[__name__].render_one(job)


def _has_chart(job: dict[str, Any]) -> bool:
    return any(t["service_requests"] is not None for t in job["trend"])


def _add_chart(job: dict[str, Any]) -> None:
    """Draw the job's trend chart here, in the parent, before a worker renders the report."""
    job["_svg"] = trend_chart(job["record"]["bia_name"], job["trend"], job["record"]["month"])


def _worker_ready() -> None:
    """A no-op task: submitting it forks the pool's workers."""


def render_index(data: MonthData, entries: list[dict[str, Any]], failed: dict[str, str],
                 demo: bool, output: str = "html") -> str:
    first = parse_month(data.month)
    words = _period_words(first)
    names = setting_words(data.settings)  # the city profile's names
    title = f"311 service request reports for Business Improvement Areas, {words['month_label']}"
    if demo:
        title += " (synthetic demo data)"
    return ENV.get_template("bia_index.html").render(
        output=output,
        stylesheet=bia_stylesheet(output, names),
        title=title,
        description=f"Monthly 311 service request reports for {names['place']}'s BIAs, {words['period']}.",
        author=names["author"],
        words=names,
        year=first.year,
        demo=demo,
        source_date=source_date(),
        w=words,
        entries=entries,
        # the table's "n/a" footnote only under a table that shows an n/a
        na_used=any(e["r"]["change_vs_same_month_prior_year"] is None for e in entries),
        failed=sorted(failed),
        city_total=data.city_service_requests,
    )


# --------------------------------------------------------------------------- batch


@dataclass
class BatchResult:
    out_dir: Path
    month: str
    rendered: list[str] = field(default_factory=list)        # slugs
    failed: dict[str, str] = field(default_factory=dict)     # BIA name → error
    unknown_names: list[dict[str, Any]] = field(default_factory=list)
    without_liaison: list[str] = field(default_factory=list)  # BIAs bia_liaisons.csv does not list
    seconds: float = 0.0
    render_seconds: list[float] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)        # PDF file names copied from the published set

    @property
    def ok(self) -> bool:
        return not self.failed


class _Counter:
    """Counts finished reports and passes each to the caller's progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def step(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(label, self.done, self.total)


def _as_dict(liaison: Liaison | None) -> dict[str, str] | None:
    return None if liaison is None else dataclasses.asdict(liaison)


def public_contact(raw_dir: Path) -> dict[str, str]:
    """The service's public mailbox (the city profile's ``mail.from``), the contact of a BIA
    without a named liaison: {"name", "email"}."""
    from email.utils import parseaddr

    from ..profile import load_profile

    name, email = parseaddr(load_profile(raw_dir).mail["from"])
    return {"name": name or email, "email": email}


def source_files(db_path: Path, year: int) -> list[dict[str, Any]]:
    """Service-request files the report year's figures depend on: its folder and the year
    before's (trend and comparison), and the Open Data files."""
    return input_files(db_path, year, entity="service_requests")


def render_job(data: MonthData, rec: dict[str, Any], demo: bool, generated_from: list[str],
               out_dir: Path, liaison: dict[str, str] | None = None,
               public_contact: dict[str, str] | None = None) -> dict[str, Any]:
    """What one BIA's report is rendered from (``render_one``): its record, trend and extent, its
    311 contact (``liaison``, else the service's ``public_contact``), and what every report of the
    month shares."""
    return {
        "extra": data.extra.get(rec["bia_name"], {}),
        "status_as_of": data.status_as_of,
        "standards_illustrative": data.standards_illustrative,
        "liaison": liaison,
        "public_contact": public_contact,
        "record": rec,
        "top_types": data.top_types.get(rec["bia_name"], []),
        "slug": slugify(rec["bia_name"]),
        "trend": data.trends[rec["bia_name"]],
        "extent": data.extents.get(rec["bia_name"], ""),
        "demo": demo,
        "closing_times_available": data.closing_times_available,
        "city_service_requests": data.city_service_requests,
        "settings": data.settings,
        "generated_from": generated_from,
        "out_dir": str(out_dir),
    }


def run_batch(db_path: Path, raw_dir: Path, out_root: Path, month: str, *, workers: int = 2,
              only: list[str] | None = None, progress: Progress | None = None,
              published: Path | None = None, force: bool = False) -> BatchResult:
    """Render every BIA's report for ``month`` into ``out_root/bia/<month>/`` (see module doc),
    reusing the PDFs of the set published in ``published`` that need no new layout, unless
    ``force``."""
    start = time.perf_counter()
    data = month_data(db_path, month)
    records = data.records
    if only is not None:
        wanted = {typed_name_key(n) for n in only}
        records = [r for r in records if data.keys[r["bia_name"]] in wanted]
        missing = wanted - {data.keys[r["bia_name"]] for r in records}
        if missing:
            raise BiaError(f"not BIAs in the seed: {', '.join(sorted(missing))}")
    out_dir = Path(out_root) / "bia" / data.month
    out_dir.mkdir(parents=True, exist_ok=True)
    stylesheet("html", "bia.css")  # read (or subset) the embedded fonts once, before the workers fork
    stylesheet("pdf", "bia.css")
    ENV.get_template("bia_report.html")  # compiled once, before the workers fork
    demo = is_demo(Path(raw_dir))
    input_files = source_files(db_path, parse_month(data.month).year)
    slugs = {r["bia_name"]: slugify(r["bia_name"]) for r in records}
    if len(set(slugs.values())) != len(slugs):
        raise BiaError("two BIA names give the same file name")
    liaisons = read_liaisons(Path(raw_dir), typed_name_key)
    public = public_contact(Path(raw_dir))
    jobs = [render_job(data, rec, demo, [f["name"] for f in input_files], out_dir,
                       liaison=_as_dict(liaisons.get(typed_name_key(rec["bia_name"]))), public_contact=public)
            for rec in records]
    layouts = Layouts.of(published, force)
    for job in jobs:
        job["published"] = layouts.entry(f"{job['slug']}.pdf")
    result = BatchResult(out_dir=out_dir, month=data.month, unknown_names=data.unknown_names,
                         without_liaison=[r["bia_name"] for r in records
                                          if typed_name_key(r["bia_name"]) not in liaisons])
    bar = _Counter(len(jobs), progress)
    done: dict[str, dict[str, Any]] = {}
    n_workers = max(1, min(workers, len(jobs)))
    if n_workers == 1:
        for job in jobs:
            _collect(job, lambda job=job: _run_job(job), done, result, bar)
    else:
        _render_in_workers(jobs, n_workers, done, result, bar)

    entries = []
    for job in jobs:
        rec = job["record"]
        if job["slug"] in done:
            entries.append({"name": rec["bia_name"], "slug": job["slug"], "r": rec})
            out = done[job["slug"]]
            result.written += [Path(p) for p in out["paths"]]
            if out.get("layout"):
                layouts.record(f"{job['slug']}.pdf", out["layout"], bool(out.get("reused")))
    result.reused = layouts.reused
    result.rendered = [e["slug"] for e in entries]
    index = render_index(data, entries, result.failed, demo)
    index_path = out_dir / "index.html"
    atomic_write(index_path, index.encode("utf-8"))
    metrics_path = atomic_write(out_dir / "bia_metrics.json",
                                json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    result.written += [index_path, metrics_path]
    result.written.append(write_manifest(out_dir, input_files, result.written, data.settings, layouts.keys))
    result.seconds = time.perf_counter() - start
    return result


def _render_in_workers(jobs: list[dict[str, Any]], n_workers: int, done: dict[str, dict[str, Any]],
                       result: BatchResult, bar: _Counter) -> None:
    """Render the jobs in ``n_workers`` forked processes, drawing each chart here first.

    Fork: the workers inherit the imported modules (fast start); the parent holds no open
    DuckDB connection at this point. The workers only lay out HTML and PDF (importing
    WeasyPrint as they start); the charts are drawn here, by one vl-convert runtime, and each
    job is submitted as soon as its chart is ready. A forked worker never calls vl-convert: its
    runtime's threads do not survive a fork, so a worker forked from a process that had used it
    would wait for them forever.
    """
    by_slug = {j["slug"]: j for j in jobs}
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=pdf_worker_init) as pool:
        pool.submit(_worker_ready)  # fork now, before vl-convert's threads start
        futures: dict[Future, str] = {}
        # reports without a chart first: nothing to draw before the workers start on them
        for job in sorted(jobs, key=_has_chart):
            try:
                _add_chart(job)
            except Exception as error:  # this BIA fails; the others go on
                _collect(job, functools.partial(_raise, error), done, result, bar)
                continue
            futures[pool.submit(_run_job, job)] = job["slug"]
            for future in [f for f in futures if f.done()]:
                _collect(by_slug[futures.pop(future)], future.result, done, result, bar)
        for future in as_completed(futures):
            job = by_slug[futures[future]]
            _collect(job, future.result, done, result, bar)


def _raise(error: BaseException) -> None:
    raise error


def _collect(job, get, done, result: BatchResult, bar: _Counter) -> None:
    name = job["record"]["bia_name"]
    try:
        out = get()
    except Exception as error:  # one BIA's failure must not stop the others
        result.failed[name] = f"{type(error).__name__}: {error}"
        # never leave an older report in place that could be sent as this run's
        for suffix in (".html", ".pdf"):
            try:
                os.unlink(Path(job["out_dir"]) / f"{job['slug']}{suffix}")
            except FileNotFoundError:
                pass
        bar.step(f"FAILED {job['slug']}")
        return
    done[job["slug"]] = out
    result.render_seconds.append(out["seconds"])
    bar.step(job["slug"])


def summary_lines(result: BatchResult) -> list[str]:
    """The run summary: counts, timing, failures and BIA names in the extracts not in the seed."""
    lines = [f"BIA reports for {result.month}: {len(result.rendered)} rendered, "
             f"{len(result.failed)} failed, in {result.seconds:.1f} s"]
    if result.reused:
        reused = set(result.reused)
        laid_out = [f"{slug}.pdf" for slug in result.rendered if f"{slug}.pdf" not in reused]
        lines.append(f"  PDFs reused from the published set (their HTML and what it embeds are unchanged): "
                     f"{len(result.reused)}; laid out again: "
                     + (", ".join(laid_out) if laid_out else "none"))
    if result.render_seconds:
        times = sorted(result.render_seconds)
        lines.append(f"  render time per report: median {times[len(times) // 2]:.2f} s, "
                     f"max {times[-1]:.2f} s")
    for name, error in sorted(result.failed.items()):
        lines.append(f"  FAILED: {name}: {error}")
    if result.without_liaison:
        lines.append(f"  {len(result.without_liaison)} BIA(s) have no named 311 contact in "
                     f"raw/reference/bia_liaisons.csv (bia_name,name,title,phone,email); their reports "
                     "name the service's public mailbox")
    if result.unknown_names:
        lines.append(f"  {len(result.unknown_names)} BIA name(s) in the extracts match no BIA in the "
                     "seed; their SRs are in no BIA report:")
        for u in result.unknown_names:
            lines.append(f"    {u['bia_raw']!r}: {u['service_requests']:,} SRs "
                         f"({u['in_month']:,} in {result.month})")
    lines.append(f"  output: {result.out_dir}")
    return lines
