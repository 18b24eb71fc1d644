"""Tests for the chart builder (pipeline/charts.py): accessible, deterministic SVG."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.report import charts, render

FIXTURE = Path(__file__).parent.parent / "fixtures" / "key_metrics_sample.json"


def load_metrics() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def specs():
    return render.key_metric_specs(load_metrics())


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str = "#ffffff") -> float:
    hi, lo = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_ten_specs_each_with_an_accessible_svg(specs):
    assert [s.id for s in specs] == ["channels", "channel-change", "type-mix", "service-level",
                                     "asa-monthly", "asa-aht", "top-types", "divisions",
                                     "ward-map", "kb-articles"]
    ids = set()
    for spec in specs:
        assert spec.svg, spec.id
        m = re.match(r'<svg\b[^>]*role="img"[^>]*aria-labelledby="([^"]+)"[^>]*>'
                     r'<title id="([^"]+)">([^<]+)</title>', str(spec.svg))
        assert m and m.group(1) == m.group(2), spec.id
        assert len(m.group(3)) > 40
        svg_ids = re.findall(r'\bid="([^"]+)"', str(spec.svg))
        assert not ids & set(svg_ids), spec.id  # ids unique across charts on one page
        ids |= set(svg_ids)
        assert spec.summary.endswith(".")
        assert spec.rows and all(len(r) == len(spec.columns) for r in spec.rows)


def test_charts_are_deterministic(specs):
    again = render.key_metric_specs(load_metrics())
    assert [str(s.svg) for s in again] == [str(s.svg) for s in specs]


def test_chart_colours_have_3_to_1_contrast_on_white():
    for colour in (charts.BAR, charts.BAR_BELOW, charts.TARGET, charts.INK, *charts.MAP_CLASSES):
        assert contrast(colour) >= 3.0, colour
    # the ward numbers are white on the map fills: text contrast
    for colour in charts.MAP_CLASSES:
        assert contrast(colour) >= 4.5, colour


def test_svgs_use_only_listed_colours(specs):
    allowed = {c.lower() for c in (charts.BAR, charts.BAR_BELOW, charts.TARGET, charts.INK,
                                   charts.GRID, *charts.MAP_CLASSES)} | {"#ffffff", "#fff", "white"}
    for spec in specs:
        fills = {c.lower() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6}|white)"', str(spec.svg))}
        assert fills <= allowed, (spec.id, fills - allowed)


def test_ward_map_labels_every_ward_and_has_a_legend(specs):
    svg = str(next(s for s in specs if s.id == "ward-map").svg)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert [str(n) for n in range(1, 26)] == [t for t in texts if t.isdigit()][:25]
    assert "Requests per 1,000 residents" in texts
    assert any(t.endswith("or more") for t in texts) and any(t.startswith("under") for t in texts)
    assert svg.count("<path") >= 25
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing fetched


def test_map_breaks_and_bands():
    assert charts.map_breaks([100.0, 110.4, 120.0, 130.6, 140.0, 150.0, 160.0, 170.0]) == [120.0, 140.0, 160.0]
    assert charts.map_breaks([5.0, 5.0, 5.0]) == [5.0]
    assert charts._threshold_labels([120.0, 140.0, 160.0]) == [
        "under 120", "120 to under 140", "140 to under 160", "160 or more"]


def test_no_chart_without_data():
    assert charts.hbar_svg("c", [], "alt", x_title="x") is None
    assert charts.ward_map_svg("c", [{"ward_number": None, "ward_name": "Unknown", "count": 3,
                                      "per_1000_residents": None}], "alt") is None
    metrics = {"year": 2024, "interactions": None, "general_inquiries": None, "phone": None,
               "email": None, "service_requests": None, "knowledge_base": None, "data_quality": None}
    specs = render.key_metric_specs(metrics)
    assert all(s.svg is None and s.rows == [] for s in specs)


def test_bad_chart_id_rejected():
    with pytest.raises(ValueError):
        charts.hbar_svg("bad id", [("a", 1, "1")], "alt", x_title="x")
