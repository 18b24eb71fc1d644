"""Tests for the chart builders (pipeline/report/charts.py, chart_specs.py): accessible,
deterministic SVG."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.report import charts
from pipeline.report.chart_specs import BUILDERS, key_metric_specs

FIXTURE = Path(__file__).parent.parent / "fixtures" / "key_metrics_sample.json"


def load_metrics() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def specs():
    return key_metric_specs(load_metrics())


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
    again = key_metric_specs(load_metrics())
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
    specs = key_metric_specs(metrics)
    assert all(s.svg is None and s.rows == [] for s in specs)


def test_bad_chart_id_rejected():
    with pytest.raises(ValueError):
        charts.hbar_svg("bad id", [("a", 1, "1")], "alt", x_title="x")


def test_one_builder_per_chart_and_the_same_tables_without_svg(specs):
    assert len(BUILDERS) == len(specs) == 10
    plain = key_metric_specs(load_metrics(), with_svg=False)
    assert all(s.svg is None for s in plain)
    for with_svg, without in zip(specs, plain, strict=True):
        assert (with_svg.id, with_svg.rows, with_svg.summary) == (without.id, without.rows, without.summary)
        if with_svg.id != "service-level":  # that chart writes its own alt text
            assert with_svg.alt == without.alt


# --------------------------------------------------------------------------- BIA trend chart

TREND = [{"month": f"{y}-{m:02d}", "service_requests": n} for (y, m), n in zip(
    [(2023, 7), (2023, 8), (2023, 9), (2023, 10), (2023, 11), (2023, 12), (2024, 1), (2024, 2),
     (2024, 3), (2024, 4), (2024, 5), (2024, 6), (2024, 7)],
    [3, None, 1, 0, 2, 5, 4, 1, 1, 2, 7, 1200, 6], strict=True)]


def test_trend_chart_is_accessible_with_alt_text_from_the_data():
    svg = charts.trend_svg("Kensington Market BIA", TREND, "2024-07")
    m = re.match(r'<svg\b[^>]*role="img"[^>]*aria-labelledby="chart-trend-title"[^>]*>'
                 r'<title id="chart-trend-title">([^<]+)</title>', svg)
    assert m, svg[:300]
    assert m.group(1) == (
        "Column chart of service requests in Kensington Market BIA, by month, July 2023 to July 2024. "
        "July 2024: 6. Highest: June 2024 with 1,200; lowest: October 2023 with 0. "
        "The table below gives every month's figure.")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "1,200" in texts and "Report month" in texts and "Earlier months" in texts
    assert charts.trend_svg("Kensington Market BIA", TREND, "2024-07") == svg  # deterministic
    fills = {c.lower() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6}|white)"', svg)}
    assert fills <= {c.lower() for c in (charts.BAR, charts.EARLIER, charts.INK, charts.GRID)} | {"#ffffff", "white"}
    assert contrast(charts.EARLIER) >= 3.0


def test_trend_chart_without_data_is_none():
    assert charts.trend_svg("X BIA", [{"month": "2024-07", "service_requests": None}], "2024-07") is None
    assert charts.trend_svg("X BIA", [], "2024-07") is None


def test_every_chart_goes_through_the_one_export_path(monkeypatch):
    """The BIA trend chart too: laid out with the registered Lato, like the annual charts."""
    exported = []
    real = charts._to_svg

    def spy(chart):
        exported.append(chart)
        return real(chart)

    monkeypatch.setattr(charts, "_to_svg", spy)
    charts.trend_svg("X BIA", TREND, "2024-07")
    charts.top_types_svg([{"sr_type": "A", "count": 3}], "chart-a")
    charts.hbar_svg("chart-b", [("a", 1, "1")], "alt text", x_title="x")
    assert len(exported) == 3
    assert charts._register_fonts.cache_info().currsize == 1
    assert charts.vega_lite(exported[0])["config"]["font"] == charts.FONT == "Lato"
