"""Rows of ``key_metrics.json`` as the annual report's tables and the key-metric charts both
list them: labelled, with the marts' shares, in display order. Any section may be ``None`` (no rows)."""

from __future__ import annotations

from .formatting import CHANNEL_LABELS, TYPE_LABELS


def prior_year(metrics: dict) -> int:
    return int(metrics["year"]) - 1


def _label(labels: dict[str, str], key: str) -> str:
    return labels.get(key, key.replace("_", " ").capitalize())


def type_rows(metrics: dict) -> list[dict]:
    """Interactions by type: key, label, count and share of all interactions."""
    interactions = metrics.get("interactions") or {}
    return [{
        "key": key,
        "label": _label(TYPE_LABELS, key),
        "count": count,
        "share": interactions["share_by_type"][key],
    } for key, count in (interactions.get("by_type") or {}).items()]


def channel_rows(metrics: dict) -> list[dict]:
    """Interactions by channel, most first: key, label, count, share and change vs prior year."""
    interactions = metrics.get("interactions") or {}
    changes = interactions.get("channel_change_vs_prior_year") or {}
    return [{
        "key": key,
        "label": _label(CHANNEL_LABELS, key),
        "count": count,
        "share": interactions["share_by_channel"][key],
        "change": changes.get(key),
    } for key, count in sorted((interactions.get("by_channel") or {}).items(),
                               key=lambda kv: (-kv[1], kv[0]))]


def ward_rows(metrics: dict) -> list[dict]:
    """Service requests by ward in ward-number order, the unknown ward last."""
    srs = metrics.get("service_requests") or {}
    return sorted(srs.get("by_ward") or [],
                  key=lambda w: (w.get("ward_number") is None, w.get("ward_number") or 0))
