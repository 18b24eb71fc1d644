"""Tests for the chart builders (pipeline/report/charts.py, chart_specs.py): accessible,
deterministic SVG."""

from __future__ import annotations

import re

import pytest

from pipeline.profile import load_profile
from pipeline.report import charts, vega_runtime
from pipeline.report.chart_specs import BUILDERS, chart_catalogue, draw_charts, key_metric_specs
from pipeline.report.context import ANNUAL_SPEC_CHARTS
from tests.support.key_metrics import load_metrics


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


def test_fourteen_specs_each_with_an_accessible_svg(specs):
    assert [s.id for s in specs] == ["channels", "channel-change", "type-mix", "inquiry-surges",
                                     "service-level", "asa-monthly", "asa-aht", "transfers-monthly",
                                     "languages", "top-types", "divisions", "ward-map", "surge-profile",
                                     "kb-articles"]
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


def test_chart_colours_have_3_to_1_contrast_on_white():
    for colour in (charts.BAR, charts.BAR_BELOW, charts.TARGET, charts.INK, *charts.MAP_CLASSES):
        assert contrast(colour) >= 3.0, colour
    # the ward numbers are white on the map fills: text contrast
    for colour in charts.MAP_CLASSES:
        assert contrast(colour) >= 4.5, colour


# Every colour an SVG can state: a fill, stroke, stop-color, flood-color, lighting-color or color
# attribute ("..." or '...') or CSS declaration (style="..." or a <style> element), in any
# notation (hex, name, rgb(), url(#gradient)); "none" is no colour.
COLOUR = re.compile(r"""(?<![\w-])(?:fill|stroke|stop-color|flood-color|lighting-color|color)\s*"""
                    r"""(?:=\s*"([^"]*)"|=\s*'([^']*)'|:\s*([^;"'}]+))""")


def svg_colours(svg: str) -> set[str]:
    """Every colour ``svg`` states (lower case), whatever property and notation states it."""
    return {"".join(values).strip().lower() for values in COLOUR.findall(svg)} - {"none"}


def test_the_colour_check_sees_every_notation():
    svg = ('<svg><rect fill="#0B3A5B" stroke=\'red\'/><path style="fill: rgb(1, 2, 3);stroke:#abc"/>'
           '<stop stop-color="hsl(0, 0%, 0%)"/><text fill="none" stroke-width="2">colour: 5</text>'
           '<style>.a { color: blue }</style></svg>')
    assert svg_colours(svg) == {"#0b3a5b", "red", "rgb(1, 2, 3)", "#abc", "hsl(0, 0%, 0%)", "blue"}


def test_svgs_use_only_listed_colours(specs):
    palette = {c.lower() for c in (charts.BAR, charts.BAR_BELOW, charts.TARGET, charts.INK,
                                   charts.GRID, *charts.MAP_CLASSES)}
    allowed = palette | {"#ffffff", "#fff", "white"}
    used = set()
    for spec in specs:
        fills = {c.lower() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6}|white)"', str(spec.svg))}
        assert fills <= allowed, (spec.id, fills - allowed)
        colours = svg_colours(str(spec.svg))
        assert colours, spec.id  # every chart states its colours: the check has something to check
        assert colours <= allowed, (spec.id, colours - allowed)
        used |= colours
    # the 14 charts drawn from the fixture use the whole palette (the map all 4 classes), and white
    assert used == palette | {"white"}


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
    # a break never sits at or below the smallest value: no empty class, no "under 0"
    assert charts.map_breaks([5.0, 5.0, 5.0]) == []
    assert charts.map_breaks([0.0] * 20 + [0.01, 1.5]) == []
    assert charts._threshold_labels([]) == ["All wards"]
    assert charts._threshold_labels([120.0, 140.0, 160.0]) == [
        "under 120", "120 to under 140", "140 to under 160", "160 or more"]


def test_ward_map_gives_wards_without_requests_the_lightest_class():
    """An extract covering a few wards (Open Data): 23 wards with 0 requests per 1,000 get the
    lightest class of their own, "0 (no requests)", not the darkest; no "under 0" class."""
    wards = [{"ward_number": n, "ward_name": f"Ward {n}", "count": 0, "per_1000_residents": 0.0}
             for n in range(1, 26)]
    wards[8].update(count=150, per_1000_residents=1.45)
    wards[18].update(count=1, per_1000_residents=0.01)
    svg = charts.ward_map_svg("c", wards, "alt", legend_title="Requests per 1,000 residents")
    legend = re.findall(r'font-size="12px" fill="#1b1b1b" opacity="1">([^<]+)</text>', svg)
    assert legend == ["0 (no requests)", "under 1", "1 or more"]
    assert "under 0" not in svg and "0 or more" not in svg
    fills = re.findall(r'fill="(#[0-9a-f]{6})"', svg)
    # three classes, lightest first: the 23 zeros (and the legend's symbol) the lightest
    assert fills.count(charts.MAP_CLASSES[-3]) == 24
    assert fills.count(charts.MAP_CLASSES[-1]) == 2  # ward 9 (1.45) and its legend symbol
    # only zeros and one rate: "more than 0"
    wards[18].update(count=0, per_1000_residents=0.0)
    assert "more than 0" in charts.ward_map_svg("c", wards, "alt", legend_title="Requests per 1,000 residents")


def test_no_chart_without_data():
    assert charts.hbar_svg("c", [], "alt", x_title="x") is None
    assert charts.ward_map_svg("c", [{"ward_number": None, "ward_name": "Unknown", "count": 3,
                                      "per_1000_residents": None}], "alt", legend_title="x") is None
    metrics = {"year": 2024, "interactions": None, "general_inquiries": None, "phone": None,
               "email": None, "service_requests": None, "knowledge_base": None, "data_quality": None, "settings": load_profile().settings()}
    specs = key_metric_specs(metrics)
    assert all(s.svg is None and s.rows == [] for s in specs)


def test_transfer_and_language_charts_read_their_figures(specs):
    by_id = {s.id: s for s in specs}
    transfers = by_id["transfers-monthly"]
    # the sample's months: 98.61% → 98.6% ... July 97.41% → 97.4%, the lowest
    assert transfers.rows[0] == ["January 2024", "98.6%", "80,210"]
    assert transfers.rows[6] == ["July 2024", "97.4%", "93,870"]
    assert "from 97.4% in July 2024 to 98.7% in February 2024" in transfers.summary
    svg = str(transfers.svg)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"98.6%", "97.4%", "100%", "0%", "Jan", "Dec"} <= set(texts)  # a 0–100% axis
    languages = by_id["languages"]
    # zh 14,210 of 1,271,300 recorded = 1.12% → 1.1%; names, not codes
    assert languages.rows[0] == ["1", "Chinese", "14,210", "1.1%"]
    assert [r[1] for r in languages.rows] == ["Chinese", "Spanish", "Portuguese", "Punjabi", "Tamil",
                                              "Italian", "Farsi", "Korean", "Tagalog", "Arabic"]
    assert languages.summary == ("4.6% of the 1,271,300 interactions with a recorded language in 2024 "
                                 "were in a language other than English, most often Chinese (14,210).")
    assert "Chinese 14,210; Spanish 6,480" in languages.alt
    assert "14,210 (1.1%)" in re.findall(r"<text[^>]*>([^<]*)</text>", str(languages.svg))


def test_transfer_chart_leaves_out_months_without_a_recorded_status():
    metrics = load_metrics()
    metrics["transfers"]["monthly"][1]["handled_without_transfer"] = None
    metrics["transfers"]["monthly"][1]["recorded"] = 0
    spec = next(s for s in key_metric_specs(metrics) if s.id == "transfers-monthly")
    assert spec.rows[1] == ["February 2024", "n/a", "0"]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", str(spec.svg))
    assert "Feb" not in texts and "Jan" in texts and "Mar" in texts


def test_bad_chart_id_rejected():
    with pytest.raises(ValueError):
        charts.hbar_svg("bad id", [("a", 1, "1")], "alt", x_title="x")


def test_one_builder_per_chart_and_the_same_tables_without_svg(specs):
    assert len(BUILDERS) == len(specs) == 14
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


def test_trend_chart_is_accessible_with_alt_text_from_the_data(monkeypatch):
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
    # drawn again by vl-convert, not taken from the cache (which the other tests keep)
    monkeypatch.setattr(charts, "draw_spec", charts.draw_spec.__wrapped__)
    assert charts.trend_svg("Kensington Market BIA", TREND, "2024-07") == svg  # deterministic
    monkeypatch.undo()
    fills = {c.lower() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6}|white)"', svg)}
    assert fills <= {c.lower() for c in (charts.BAR, charts.EARLIER, charts.INK, charts.GRID)} | {"#ffffff", "white"}
    # every colour, in any notation: the report month, the earlier months, text, grid and white
    assert svg_colours(svg) == {c.lower() for c in (charts.BAR, charts.EARLIER, charts.INK, charts.GRID)} | {"white"}
    assert contrast(charts.EARLIER) >= 3.0


def test_trend_chart_without_data_is_none():
    assert charts.trend_svg("X BIA", [{"month": "2024-07", "service_requests": None}], "2024-07") is None
    assert charts.trend_svg("X BIA", [], "2024-07") is None


@pytest.fixture
def exported(monkeypatch) -> list:
    """Every chart that goes through charts._to_svg, in order (it still draws them)."""
    drawn: list = []
    real = charts._to_svg

    def spy(chart):
        drawn.append(chart)
        return real(chart)

    monkeypatch.setattr(charts, "_to_svg", spy)
    return drawn


def test_every_chart_goes_through_the_one_export_path(exported):
    """The BIA trend chart too: laid out with the registered Lato, like the annual charts."""
    charts.trend_svg("X BIA", TREND, "2024-07")
    charts.top_types_svg([{"sr_type": "A", "count": 3}], "chart-a")
    charts.hbar_svg("chart-b", [("a", 1, "1")], "alt text", x_title="x")
    assert len(exported) == 3
    assert charts._register_fonts.cache_info().currsize == 1
    assert charts.vega_lite(exported[0])["config"]["font"] == charts.FONT == "Lato"


SMALL = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": 40, "height": 20,
         "data": {"values": [{"x": "a", "y": 1}, {"x": "b", "y": 2}]}, "mark": "bar",
         "encoding": {"x": {"field": "x", "type": "nominal"}, "y": {"field": "y", "type": "quantitative"}}}


@pytest.fixture
def chart_cache(tmp_path):
    folder = tmp_path / "charts"
    charts.use_chart_cache(folder)
    yield folder
    charts.use_chart_cache(None)


def test_a_drawn_chart_is_kept_and_taken_from_the_cache_next_time(chart_cache) -> None:
    import json

    spec = json.dumps(SMALL, sort_keys=True)
    drawn = charts.draw_spec(spec)
    kept = list(chart_cache.glob("*.svg"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == drawn and drawn.startswith("<svg")
    # the next process (no drawing in memory) reads the file: what it holds is what it gets
    kept[0].write_text("<svg>from the cache</svg>", encoding="utf-8")
    charts.draw_spec.cache_clear()
    assert charts.draw_spec(spec) == "<svg>from the cache</svg>"
    # another spec is another file
    other = json.dumps({**SMALL, "width": 41}, sort_keys=True)
    assert charts.draw_spec(other) != drawn and len(list(chart_cache.glob("*.svg"))) == 2


def test_redraw_draws_again_and_keeps_the_new_drawing(chart_cache) -> None:
    import json

    spec = json.dumps(SMALL, sort_keys=True)
    drawn = charts.draw_spec(spec)
    kept = next(chart_cache.glob("*.svg"))
    kept.write_text("<svg>stale</svg>", encoding="utf-8")
    charts.use_chart_cache(chart_cache, redraw=True)
    assert charts.draw_spec(spec) == drawn
    assert kept.read_text(encoding="utf-8") == drawn


def test_the_cache_keeps_the_most_recently_used_files(chart_cache, monkeypatch) -> None:
    import json
    import os

    monkeypatch.setattr(charts._ChartCache, "LIMIT", 2)
    specs = [json.dumps({**SMALL, "width": 40 + i}, sort_keys=True) for i in range(3)]
    for i, spec in enumerate(specs[:2]):
        charts.draw_spec(spec)
        path = charts._CACHE.path(spec)
        os.utime(path, ns=(10**18 + i, 10**18 + i))  # the first is the oldest
    charts.draw_spec(specs[2])
    assert sorted(p.name for p in chart_cache.glob("*.svg")) == sorted(
        charts._CACHE.path(s).name for s in specs[1:])


def test_the_annual_reports_charts_are_drawn_first_and_every_chart_once(exported, specs):
    """The annual report's PDF starts once its two appendix charts are drawn, before the others."""
    catalogue = chart_catalogue(load_metrics())
    first = draw_charts(catalogue, ANNUAL_SPEC_CHARTS)
    assert [s.id for s in first if s.svg is not None] == ["service-level", "ward-map"]
    assert len(exported) == 2
    drawn = draw_charts(catalogue)
    again = draw_charts(catalogue)
    # the rest once each: every chart key_metric_specs draws (the fixture), the first two not again
    assert len(exported) == sum(s.svg is not None for s in specs)
    assert [s.svg for s in drawn] == [s.svg for s in again] == [s.svg for s in specs]


def test_the_runtime_started_ahead_registers_the_fonts_once_and_draws_the_same():
    """vl-convert's runtime started in a thread (vega_runtime) changes no chart."""
    before = charts.vlc.vegalite_to_svg(SMALL)
    thread = vega_runtime.start_runtime()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert vega_runtime._registered.cache_info().currsize == 1
    assert charts.vlc.vegalite_to_svg(SMALL) == before
