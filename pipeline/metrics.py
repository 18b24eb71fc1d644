"""Assemble ``key_metrics.json`` (the shape in docs/metrics.md) from the dbt marts.

Nothing is computed here beyond picking rows: every figure comes from a mart. Values stay
unrounded; a section whose source data is absent is ``None``. The documents also read a few
mart figures that key_metrics.json leaves out to keep its documented shape (``DOCUMENTS_ONLY``):
``published`` drops them from what is written.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import duckdb

from .files import atomic_write
from .warehouse import one, reading, rows, settings

TYPES = ("general_inquiry", "service_request", "status_update")

# The marts' figures that the documents read and key_metrics.json leaves out, so that its shape
# stays the one docs/metrics.md gives: (section, the list in it or None, key).
DOCUMENTS_ONLY = (
    ("interactions", None, "share_by_type"),
    ("interactions", None, "share_by_channel"),
    ("phone", None, "target_met"),
    ("phone", "monthly", "target_met"),
    ("languages", "top_other_than_english", "share"),
    ("service_requests", "top_types", "share"),
    ("service_requests", None, "closing_times_available"),
)


def interactions(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any] | None:
    mix = rows(
        con,
        "SELECT dimension, category, interactions, share, year_total, change_vs_prior_year "
        "FROM marts.mart_interaction_mix WHERE activity_year = ? ORDER BY dimension, interactions DESC, category",
        [year],
    )
    if not mix:
        return None
    types = [r for r in mix if r["dimension"] == "type"]
    by_type = {t: 0 for t in TYPES}  # a type without interactions: none, a share of 0
    by_type.update({r["category"]: r["interactions"] for r in types})
    share_by_type = {t: 0.0 for t in TYPES}
    share_by_type.update({r["category"]: r["share"] for r in types})
    channels = [r for r in mix if r["dimension"] == "channel"]
    return {
        "total": mix[0]["year_total"],
        "by_type": by_type,
        "by_channel": {r["category"]: r["interactions"] for r in channels},
        "channel_change_vs_prior_year": {r["category"]: r["change_vs_prior_year"] for r in channels},
        "share_by_type": share_by_type,  # DOCUMENTS_ONLY
        "share_by_channel": {r["category"]: r["share"] for r in channels},  # DOCUMENTS_ONLY
    }


def general_inquiries(con: duckdb.DuckDBPyConnection, year: int, top_n: int) -> dict[str, Any] | None:
    topics = rows(
        con,
        "SELECT topic, interactions AS count FROM marts.mart_top_topics "
        "WHERE activity_year = ? AND topic_rank <= ? ORDER BY topic_rank",
        [year, top_n],
    )
    if not topics:
        return None
    surges = rows(
        con,
        "SELECT topic, quarter_label AS quarter, interactions AS count, phone_interactions AS phone_count, "
        "baseline_median, baseline_multiple AS multiple FROM marts.mart_inquiry_quarters "
        "WHERE is_surge AND quarter_year = ? ORDER BY interactions DESC, topic, quarter_start",
        [year],
    )
    return {"top_topics": topics, "inquiry_surges": surges,
            "quarterly": inquiry_quarters(con, year, surges, topics[0]["topic"])}


def inquiry_quarters(con: duckdb.DuckDBPyConnection, year: int, surges: list[dict],
                     top_topic: str) -> list[dict[str, Any]]:
    """The quarters of the year and the 4 before (as far as the data go) of each topic that
    surged in the year, or, when none did, of the year's most frequent topic."""
    wanted = list(dict.fromkeys(s["topic"] for s in surges)) or [top_topic]
    quarters = rows(
        con,
        "SELECT topic, quarter_label AS quarter, interactions AS count, phone_interactions AS phone_count, "
        "baseline_median, is_evaluated AS evaluated, is_surge AS surge FROM marts.mart_inquiry_quarters "
        "WHERE topic IN (SELECT unnest(?)) AND quarter_year IN (?, ?) ORDER BY quarter_start",
        [wanted, year - 1, year],
    )
    return [{"topic": t, "quarters": [{k: v for k, v in q.items() if k != "topic"}
                                      for q in quarters if q["topic"] == t]} for t in wanted]


def phone(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any] | None:
    fields = (
        "offered, answered, abandoned, short_abandoned, answered_within_threshold, "
        "service_level, target, target_met, asa_seconds, aht_seconds, abandon_rate"
    )
    yearly = one(
        con,
        f"SELECT {fields} FROM marts.mart_phone_service_level WHERE grain = 'year' AND period_year = ?",
        [year],
    )
    if yearly is None:
        return None
    monthly = rows(
        con,
        "SELECT strftime(period_start, '%Y-%m') AS month, service_level, target_met, asa_seconds, offered "
        "FROM marts.mart_phone_service_level WHERE grain = 'month' AND period_year = ? "
        "ORDER BY period_start",
        [year],
    )
    return {**yearly, "monthly": monthly}


def email(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any] | None:
    return one(
        con,
        "SELECT received, acknowledged_within_standard FROM marts.mart_email_acknowledgement "
        "WHERE activity_year = ?",
        [year],
    )


TRANSFER_CHANNELS = ("phone", "live_chat")


def transfers(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any] | None:
    """Answered phone calls and live chats handled without transfer; None when the year has no
    recorded ``transferred`` value (the column is absent or blank throughout)."""
    yearly = rows(
        con,
        "SELECT period_year, channel, answered, recorded, transferred, handled_without_transfer "
        "FROM marts.mart_transfers WHERE grain = 'year' AND period_year IN (?, ?)",
        [year, year - 1],
    )
    this_year = {r["channel"]: r for r in yearly if r["period_year"] == year}
    total = this_year.get("all")
    if total is None or not total["recorded"]:
        return None
    prior = next((r for r in yearly if r["period_year"] == year - 1 and r["channel"] == "all"), None)
    monthly = rows(
        con,
        "SELECT strftime(period_start, '%Y-%m') AS month, handled_without_transfer, recorded "
        "FROM marts.mart_transfers WHERE grain = 'month' AND channel = 'all' AND period_year = ? "
        "ORDER BY period_start",
        [year],
    )
    return {
        "answered": total["answered"],
        "recorded": total["recorded"],
        "transferred": total["transferred"],
        "handled_without_transfer": total["handled_without_transfer"],
        # not in the v2 shape: the annual report's comparison with the prior year
        "prior_year_handled_without_transfer": prior["handled_without_transfer"] if prior else None,
        "by_channel": {c: (this_year.get(c) or {}).get("handled_without_transfer") for c in TRANSFER_CHANNELS},
        "monthly": monthly,
    }


def languages(con: duckdb.DuckDBPyConnection, year: int, top_n: int) -> dict[str, Any] | None:
    """Languages of service; None when no interaction of the year has a recorded language."""
    yearly = one(
        con,
        "SELECT recorded, not_recorded, distinct_languages AS \"distinct\", other_than_english_share "
        "FROM marts.mart_languages WHERE activity_year = ?",
        [year],
    )
    if yearly is None or not yearly["recorded"]:
        return None
    top = rows(
        con,
        "SELECT language, interactions AS count, share FROM marts.mart_top_languages "
        "WHERE activity_year = ? AND language_rank <= ? ORDER BY language_rank",
        [year, top_n],
    )
    return {**yearly, "top_other_than_english": top}


def service_requests(con: duckdb.DuckDBPyConnection, year: int, top_n: int,
                     settings: dict[str, Any]) -> dict[str, Any] | None:
    yearly = one(con, "SELECT * FROM marts.mart_sr_yearly WHERE created_year = ?", [year])
    if yearly is None:
        return None
    top_types = rows(
        con,
        "SELECT sr_type, service_requests AS count, share FROM marts.mart_sr_top_types "
        "WHERE created_year = ? AND type_rank <= ? ORDER BY type_rank",
        [year, top_n],
    )
    by_division = rows(
        con,
        "SELECT division, service_requests AS count, share FROM marts.mart_sr_by_division "
        "WHERE created_year = ? ORDER BY service_requests DESC, division",
        [year],
    )
    ward_types = rows(
        con,
        "SELECT ward_number, sr_type, service_requests AS count FROM marts.mart_sr_ward_top_types "
        "WHERE created_year = ? ORDER BY ward_number NULLS LAST, type_rank",
        [year],
    )
    by_ward = rows(
        con,
        "SELECT ward_number, ward_name, service_requests AS count, ward_rank AS rank, share, "
        "per_1000_residents FROM marts.mart_sr_by_ward WHERE created_year = ? "
        "ORDER BY ward_number NULLS LAST",
        [year],
    )
    for ward in by_ward:
        ward["top_types"] = [
            {"sr_type": t["sr_type"], "count": t["count"]}
            for t in ward_types
            if t["ward_number"] == ward["ward_number"]
        ]
    surge_days = rows(
        con,
        "SELECT strftime(surge_date, '%Y-%m-%d') AS date, service_requests AS count, baseline_median, "
        "baseline_multiple AS multiple FROM marts.mart_surge_days WHERE surge_year = ? ORDER BY surge_date",
        [year],
    )
    profile = rows(
        con,
        "SELECT strftime(surge_date, '%Y-%m-%d') AS date, sr_type, "
        "list(cumulative_service_requests ORDER BY clock_hour) AS cumulative_by_hour, "
        "max(cumulative_service_requests) FILTER (WHERE clock_hour = ?) AS by_4pm "
        "FROM marts.mart_surge_day_profile WHERE year(surge_date) = ? "
        "GROUP BY surge_date, type_rank, sr_type ORDER BY surge_date, type_rank",
        [settings["surge_profile_cutoff_hour"], year],
    )
    surge_types = rows(
        con,
        "SELECT strftime(surge_date, '%Y-%m-%d') AS date, sr_type, service_requests AS count "
        "FROM marts.mart_surge_day_top_types WHERE year(surge_date) = ? ORDER BY surge_date, type_rank",
        [year],
    )
    for day in surge_days:
        day["top_types"] = [
            {"sr_type": t["sr_type"], "count": t["count"]} for t in surge_types if t["date"] == day["date"]
        ]
        day["profile"] = [{k: p[k] for k in ("sr_type", "cumulative_by_hour", "by_4pm")}
                          for p in profile if p["date"] == day["date"]]
    return {
        "total": yearly["service_requests"],
        "cancelled": yearly["cancelled"],
        "prior_year_total": yearly["prior_year_service_requests"],
        "change_vs_prior_year": yearly["change_vs_prior_year"],
        "top_types": top_types,
        "by_division": by_division,
        "by_ward": by_ward,
        "median_days_to_close": yearly["median_days_to_close"],
        "on_time_rate": yearly["on_time_rate"],
        "open_at_period_end": yearly["open_at_period_end"],
        "surge_days": surge_days,
        # DOCUMENTS_ONLY: whether the year's SRs have closing times (the documents then leave
        # out time to close, and say so once: pipeline/report/sources.py not_held)
        "closing_times_available": bool(yearly["closing_times_available"]),
    }


def knowledge_base(con: duckdb.DuckDBPyConnection, year: int, top_n: int) -> dict[str, Any] | None:
    articles = rows(
        con,
        "SELECT article_title, views FROM marts.mart_kb_top_articles "
        "WHERE view_year = ? AND article_rank <= ? ORDER BY article_rank",
        [year, top_n],
    )
    return {"top_articles": articles} if articles else None


def data_quality(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any]:
    """Load-audit totals over the files the year's figures depend on (``mart_report_files``:
    the year's and the prior year's extract folders, and any Open Data files)."""
    totals = one(
        con,
        "SELECT coalesce(sum(rows_read), 0) AS rows_read, coalesce(sum(rows_loaded), 0) AS rows_loaded, "
        "coalesce(sum(rows_rejected), 0) AS rows_rejected, "
        "coalesce(sum(duplicates_collapsed), 0) AS duplicates_collapsed "
        "FROM marts.mart_report_files WHERE report_year = ?",
        [year],
    )
    return {k: int(v) for k, v in (totals or {}).items()}


def key_metrics(db_path: Path, year: int, top_n: int = 10) -> dict[str, Any]:
    """Every figure of the year, in the key_metrics.json shape plus ``DOCUMENTS_ONLY``."""
    with reading(db_path) as con:
        used = settings(con)
        return {
            "year": year,
            "interactions": interactions(con, year),
            "general_inquiries": general_inquiries(con, year, top_n),
            "phone": phone(con, year),
            "email": email(con, year),
            "transfers": transfers(con, year),
            "languages": languages(con, year, top_n),
            "service_requests": service_requests(con, year, top_n, used),
            "knowledge_base": knowledge_base(con, year, top_n),
            "data_quality": data_quality(con, year),
            "settings": used,
        }


def published(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics`` in key_metrics.json's shape: a copy without ``DOCUMENTS_ONLY``."""
    out = dict(metrics)
    for section, items, key in DOCUMENTS_ONLY:
        if not out.get(section):
            continue
        part = out[section] = dict(out[section])
        if items is None:
            part.pop(key, None)
        elif part.get(items) is not None:
            part[items] = [{k: v for k, v in item.items() if k != key} for item in part[items]]
    return out


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, item, rows)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(f"{prefix}[{i}]", item, rows)
    else:
        rows.append((prefix, "" if value is None else str(value)))


def to_csv(metrics: dict[str, Any]) -> str:
    """The same figures as ``metric,value`` lines (JSON paths), for spreadsheets."""
    rows: list[tuple[str, str]] = []
    _flatten("", metrics, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows(rows)
    return out.getvalue()


def write_key_metrics(metrics: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write key_metrics.json and key_metrics.csv into ``out_dir`` (``published(metrics)``)."""
    metrics = published(metrics)
    text = json.dumps(metrics, indent=2, ensure_ascii=False) + "\n"
    return [
        atomic_write(out_dir / "key_metrics.json", text),
        atomic_write(out_dir / "key_metrics.csv", to_csv(metrics)),
    ]
