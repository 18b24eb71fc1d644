"""Accessible, deterministic SVG charts for the reports (Altair → vl-convert → inline SVG).

Every chart is returned as SVG markup whose root ``<svg>`` has ``role="img"`` and
``aria-labelledby`` pointing at a first-child ``<title>`` holding alt text generated from
the data (WeasyPrint turns that into the PDF Figure's /Alt). All ids inside the SVG are
prefixed with the chart id, so several charts can be inlined in one page and the output is
the same on every run. The report always shows a data table under each chart.

``use_chart_cache(folder)`` keeps every drawn SVG in ``folder`` (the CLI's
``OUTPUT/.cache/charts``), named by the SHA-256 of the spec, vl-convert's version and the
shipped fonts: a rerun takes a chart it has drawn before from there instead of starting
vl-convert (the drawing is deterministic, so the bytes are the same).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import altair as alt
import vl_convert as vlc
from altair.utils.schemapi import disable_debug_mode

from ..files import atomic_write
from ..paths import DATA_DIR, TEMPLATES_DIR
from .formatting import MONTHS, fmt_month
from .vega_runtime import register_fonts

# Altair checks every chart object against the Vega-Lite schema as it is made (its "debug
# mode"): a third of the time of building the report's charts. The specs are the same without
# it, and vl-convert rejects a bad one anyway.
disable_debug_mode()

FONT = "Lato"  # laid out with the shipped TTFs (``_register_fonts``), as the documents embed it
INK = "#1b1b1b"
BAR = "#0b3a5b"          # 11.9:1 on white
BAR_BELOW = "#8a5a00"    # 5.9:1 on white; used for months below target (also labelled in text)
TARGET = "#b00020"       # 6.6:1 on white
GRID = "#c4ced6"
EARLIER = "#6f8fa8"      # 3.4:1 on white; the BIA trend's months before the report month


# Encodings are given as typed channels (``alt.X("value:Q")``, ``alt.Text(...)``,
# ``alt.XValue(560)``), never as a bare shorthand string or ``alt.value``/``alt.datum`` dict:
# Altair matches those against its whole schema on every call (about 10 ms each). The spec is
# the same either way.
def _inline_data(values: list[dict]) -> alt.Data:
    """A chart's inline data, as a tuple: Altair deep-copies a list of rows on every call that
    makes a chart (``encode``, ``mark_*``, ``properties``, ``layer``), most of the time of
    building these charts; a tuple it keeps by reference. The spec is the same."""
    return alt.Data(values=tuple(values))


def _pct(value: float) -> str:
    q = (Decimal(repr(float(value))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{q}%"


# The charts' shared Vega-Lite configuration, as Altair's ``configure*`` calls would write it
# (set on the spec dict: the calls cost more than converting these small charts).
CONFIG = {
    "view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None},
    "axis": {"domainColor": INK, "gridColor": GRID, "labelColor": INK, "labelFontSize": 12,
             "tickColor": INK, "titleColor": INK, "titleFontSize": 12},
    "background": "white",
    "font": FONT,
    "legend": {"labelColor": INK, "titleColor": INK},
}


MIN_SCREEN_FONT_PX = 12  # a chart's smallest text on screen, at any width (issue 27)


def accessible_svg(svg: str, chart_id: str, alt_text: str) -> str:
    """Add role/aria-labelledby and a first-child <title>; prefix ids; make it scalable."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", chart_id):
        raise ValueError(f"bad chart id {chart_id!r}")
    # Prefix every id and its references so ids are unique within the page.
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{chart_id}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    # Inner vega groups carry ARIA roles of their own; inside role="img" they are presentational.
    svg = re.sub(r'\s(role|aria-roledescription|aria-label)="[^"]*"', "", svg)
    match = re.match(r"<svg\b([^>]*)>", svg)
    if not match:
        raise ValueError("not an SVG document")
    attrs = match.group(1)
    width = re.search(r'\bwidth="([\d.]+)"', attrs)
    height = re.search(r'\bheight="([\d.]+)"', attrs)
    attrs = re.sub(r'\s(width|height|class)="[^"]*"', "", attrs)
    title_id = f"{chart_id}-title"
    style = ""
    if width and height:
        # --chart-width: the width at which the chart's smallest text is 12 px on screen
        # (html.css draws it that wide and lets it scroll sideways on a narrow screen)
        sizes = [float(x) for x in re.findall(r'font-size(?:="|:\s*)([\d.]+)px', svg)]
        screen = math.ceil(float(width.group(1)) * max(1.0, MIN_SCREEN_FONT_PX / min(sizes))) if sizes \
            else math.ceil(float(width.group(1)))
        style = f' style="max-width:{width.group(1)}px;--chart-width:{screen}px"'
    root = (f'<svg{attrs} class="chart" role="img" aria-labelledby="{title_id}"'
            f' preserveAspectRatio="xMinYMin meet"{style}>')
    title = f'<title id="{title_id}">{escape(alt_text)}</title>'
    return root + title + svg[match.end():]


def monthly_service_level_svg(monthly: list[dict], target: float, chart_id: str, threshold: str) -> str | None:
    """Bar chart of phone service level by month with the target as a labelled line;
    ``threshold``: the profile's service-level threshold in words (setting_words' phone_threshold)."""
    rows = [r for r in monthly if r.get("service_level") is not None]
    if not rows:
        return None
    values = [
        {
            "month": _month_abbr(r["month"]),
            "month_full": _month_full(r["month"]),
            "order": i,
            "sl": r["service_level"],
            "label": _pct(r["service_level"]),
            "status": "Met target" if r["target_met"] else "Below target",
        }
        for i, r in enumerate(rows)
    ]
    data = _inline_data(values)
    base = alt.Chart(data).encode(
        x=alt.X("month:N", sort=[v["month"] for v in values], title=None,
                axis=alt.Axis(labelAngle=0)),
    )
    bars = base.mark_bar(size=26).encode(
        y=alt.Y("sl:Q", title=f"Calls answered within {threshold}",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", tickCount=5)),
        color=alt.Color("status:N", scale=alt.Scale(domain=["Met target", "Below target"],
                                                    range=[BAR, BAR_BELOW]),
                        legend=alt.Legend(title=None, orient="top", labelFontSize=12)),
    )
    # Value labels sit at the foot of each bar, clear of the target line.
    labels = base.mark_text(baseline="bottom", dy=-5, fontSize=11, color="white",
                            fontWeight="bold").encode(y=alt.YDatum(0), text=alt.Text("label:N"))
    rule_data = _inline_data([{"t": target, "label": f"Target {_pct(target)}"}])
    rule = alt.Chart(rule_data).mark_rule(color=TARGET, strokeWidth=2, strokeDash=[6, 3]).encode(
        y=alt.Y("t:Q"))
    rule_label = alt.Chart(rule_data).mark_text(
        align="left", baseline="middle", dx=6, color=TARGET, fontSize=12, fontWeight="bold",
    ).encode(y=alt.Y("t:Q"), text=alt.Text("label:N"), x=alt.XValue(560))
    chart = alt.layer(rule, bars, labels, rule_label).properties(width=560, height=240)
    svg = _to_svg(chart)
    below = [v["month_full"] for v in values if v["status"] == "Below target"]
    best = max(values, key=lambda v: (v["sl"], -v["order"]))
    worst = min(values, key=lambda v: (v["sl"], v["order"]))
    alt_text = (
        f"Bar chart of the phone service level by month against the {_pct(target)} target. "
        f"Highest: {best['month_full']} at {best['label']}; lowest: {worst['month_full']} at "
        f"{worst['label']}. "
        + (f"Below target in {_join(below)}." if below else "The target was met every month.")
        + " The table below gives every month's figures."
    )
    return accessible_svg(svg, chart_id, alt_text)


def top_types_svg(top_types: list[dict], chart_id: str) -> str | None:
    """Horizontal bar chart of the top service request types, with direct value labels."""
    if not top_types:
        return None
    values = [{"sr_type": t["sr_type"], "count": t["count"], "order": i,
               "label": f"{t['count']:,}"} for i, t in enumerate(top_types)]
    data = _inline_data(values)
    base = alt.Chart(data).encode(
        y=alt.Y("sr_type:N", sort=[v["sr_type"] for v in values], title=None,
                axis=alt.Axis(labelLimit=300, labelFontSize=12)),
    )
    bars = base.mark_bar(color=BAR, size=22).encode(
        x=alt.X("count:Q", title="Service requests", axis=alt.Axis(format=",d", tickCount=4)))
    labels = base.mark_text(align="left", dx=4, fontSize=12, color=INK).encode(
        x=alt.X("count:Q"), text=alt.Text("label:N"))
    chart = alt.layer(bars, labels).properties(width=340, height=30 * len(values))
    svg = _to_svg(chart)
    parts = [f"{v['sr_type']} {v['label']}" for v in values]
    alt_text = (f"Bar chart of the {len(values)} most frequent service request types: "
                + "; ".join(parts) + ".")
    return accessible_svg(svg, chart_id, alt_text)


def _month_abbr(month: str) -> str:
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return names[int(str(month).split("-")[1]) - 1]


def _month_full(month: str) -> str:
    names = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
    return names[int(str(month).split("-")[1]) - 1]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- generic charts

POSITIVE = BAR
NEGATIVE = BAR_BELOW
# Choropleth classes: every fill is ≥ 4.5:1 against white (so white ward numbers and the white
# ward boundaries stay readable); the classes are told apart by lightness, by the legend's
# ranges and by the table beside the map.
MAP_CLASSES = ["#4a77a8", "#2b5f8e", "#174a73", "#061f33"]


def hbar_svg(chart_id: str, rows: list[tuple[str, float, str]], alt_text: str, *,
             x_title: str, width: int = 330, label_limit: int = 260,
             x_format: str = ",d") -> str | None:
    """Horizontal bars (label, value, value label) in the given order, directly labelled."""
    if not rows:
        return None
    values = [{"label": lab, "value": val, "text": txt, "order": i}
              for i, (lab, val, txt) in enumerate(rows)]
    base = alt.Chart(_inline_data(values)).encode(
        y=alt.Y("label:N", sort=[v["label"] for v in values], title=None,
                axis=alt.Axis(labelLimit=label_limit, labelFontSize=12)),
    )
    bars = base.mark_bar(color=BAR, size=20).encode(
        x=alt.X("value:Q", title=x_title, axis=alt.Axis(format=x_format, tickCount=4)))
    labels = base.mark_text(align="left", dx=4, fontSize=12, color=INK).encode(
        x=alt.X("value:Q"), text=alt.Text("text:N"))
    chart = alt.layer(bars, labels).properties(width=width, height=28 * len(values))
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


def diverging_svg(chart_id: str, rows: list[tuple[str, float | None, str]], alt_text: str, *,
                  x_title: str, width: int = 360) -> str | None:
    """Horizontal bars around zero (increases dark blue, decreases brown), signed labels."""
    if not rows:
        return None
    values = [{"label": lab, "value": 0 if val is None else val, "text": txt, "order": i,
               "sign": "Increase" if (val or 0) >= 0 else "Decrease"}
              for i, (lab, val, txt) in enumerate(rows)]
    extent = max(abs(v["value"]) for v in values) or 0.1
    domain = [-extent * 1.35, extent * 1.35]
    base = alt.Chart(_inline_data(values)).encode(
        y=alt.Y("label:N", sort=[v["label"] for v in values], title=None,
                axis=alt.Axis(labelLimit=200, labelFontSize=12, domain=False, ticks=False)),
    )
    x = alt.X("value:Q", title=x_title, scale=alt.Scale(domain=domain),
              axis=alt.Axis(format="+%", tickCount=5))
    bars = base.mark_bar(size=20).encode(
        x=x,
        color=alt.Color("sign:N", scale=alt.Scale(domain=["Increase", "Decrease"],
                                                   range=[POSITIVE, NEGATIVE]),
                        legend=alt.Legend(title=None, orient="top", labelFontSize=12)),
    )
    pos = base.transform_filter("datum.value >= 0").mark_text(
        align="left", dx=4, fontSize=12, color=INK).encode(x=alt.X("value:Q"), text=alt.Text("text:N"))
    neg = base.transform_filter("datum.value < 0").mark_text(
        align="right", dx=-4, fontSize=12, color=INK).encode(x=alt.X("value:Q"), text=alt.Text("text:N"))
    zero = alt.Chart(_inline_data([{"z": 0}])).mark_rule(color=INK).encode(x=alt.X("z:Q"))
    chart = alt.layer(bars, zero, pos, neg).properties(width=width, height=28 * len(values))
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


def _month_base(rows: list[tuple[str, float, str]]) -> tuple[list[dict], alt.Chart]:
    """The month bars' data (abbreviation, value, label) and their x axis in the given order."""
    values = [{"month": m, "value": v, "text": t, "order": i} for i, (m, v, t) in enumerate(rows)]
    base = alt.Chart(_inline_data(values)).encode(
        x=alt.X("month:N", sort=[v["month"] for v in values], title=None,
                axis=alt.Axis(labelAngle=0)))
    return values, base


def monthly_bar_svg(chart_id: str, rows: list[tuple[str, float, str]], alt_text: str, *,
                    y_title: str, reference: tuple[float, str] | None = None,
                    y_format: str = "d") -> str | None:
    """Vertical bars by month (abbreviation, value, label) with an optional labelled rule."""
    if not rows:
        return None
    values, base = _month_base(rows)
    top = max(v["value"] for v in values) * 1.18
    if reference:
        top = max(top, reference[0] * 1.18)
    bars = base.mark_bar(color=BAR, size=26).encode(
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, top], nice=False),
                axis=alt.Axis(format=y_format, tickCount=5)))
    labels = base.mark_text(baseline="bottom", dy=-3, fontSize=11, color=INK).encode(
        y=alt.Y("value:Q"), text=alt.Text("text:N"))
    layers = [bars, labels]
    if reference:
        ref = _inline_data([{"r": reference[0], "label": reference[1]}])
        layers.insert(0, alt.Chart(ref).mark_rule(color=TARGET, strokeWidth=2, strokeDash=[6, 3])
                      .encode(y=alt.Y("r:Q")))
        layers.append(alt.Chart(ref).mark_text(align="left", baseline="middle", dx=6, color=TARGET,
                                               fontSize=12, fontWeight="bold")
                      .encode(y=alt.Y("r:Q"), text=alt.Text("label:N"), x=alt.XValue(560)))
    chart = alt.layer(*layers).properties(width=560, height=220)
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


def monthly_share_svg(chart_id: str, rows: list[tuple[str, float, str]], alt_text: str, *,
                      y_title: str) -> str | None:
    """Vertical bars by month (abbreviation, fraction 0–1, label) on a 0–100% axis, each bar
    labelled at its top (inside in white when the bar is tall enough, else above it)."""
    if not rows:
        return None
    values, base = _month_base(rows)
    y = alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, 1], nice=False),
              axis=alt.Axis(format="%", tickCount=5))
    bars = base.mark_bar(color=BAR, size=38).encode(y=y)
    inside = base.transform_filter("datum.value >= 0.15").mark_text(
        baseline="top", dy=5, fontSize=11, color="white", fontWeight="bold").encode(
        y=alt.Y("value:Q"), text=alt.Text("text:N"))
    above = base.transform_filter("datum.value < 0.15").mark_text(
        baseline="bottom", dy=-3, fontSize=11, color=INK).encode(y=alt.Y("value:Q"), text=alt.Text("text:N"))
    chart = alt.layer(bars, inside, above).properties(width=560, height=220)
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


@functools.cache
def ward_geometry() -> tuple[tuple[dict, ...], dict[int, tuple[float, float]]]:
    """The 25 ward features and a label point inside each (longitude, latitude)."""
    from shapely.geometry import mapping, shape
    from shapely.geometry.polygon import orient

    data = json.loads((DATA_DIR / "toronto_wards_25.geojson").read_text(encoding="utf-8"))
    features = []
    points = {}
    for f in sorted(data["features"], key=lambda f: f["properties"]["ward_number"]):
        geom = shape(f["geometry"])
        # d3 (Vega) reads rings by spherical winding: exterior rings must run clockwise, the
        # opposite of RFC 7946, or a ward becomes "the whole globe except the ward".
        parts = getattr(geom, "geoms", [geom])
        rings = [orient(part, sign=-1.0) for part in parts]
        rewound = rings[0] if len(rings) == 1 else type(geom)(rings)
        features.append({"type": "Feature", "properties": dict(f["properties"]),
                         "geometry": json.loads(json.dumps(mapping(rewound)))})
        p = geom.representative_point()
        points[int(f["properties"]["ward_number"])] = (round(p.x, 5), round(p.y, 5))
    return tuple(features), points


def map_breaks(values: list[float]) -> list[float]:
    """Up to three class breaks (quartiles rounded to whole numbers) for up to four map classes.
    A break above the smallest value only: no class is empty (no "under 0")."""
    vals = sorted(values)
    if not vals:
        return []
    out: list[float] = []
    for q in (0.25, 0.5, 0.75):
        b = float(_round0(vals[min(len(vals) - 1, int(q * len(vals)))]))
        if b > vals[0] and (not out or b > out[-1]):
            out.append(b)
    return out


NO_REQUESTS = "0 (no requests)"


def _round0(value: float) -> int:
    return int(Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def ward_map_svg(chart_id: str, wards: list[dict], alt_text: str, *, legend_title: str) -> str | None:
    """Choropleth of the wards by SRs per residents (``legend_title`` names the base), each ward
    labelled by number."""
    rates = {int(w["ward_number"]): w["per_1000_residents"] for w in wards
             if w.get("ward_number") is not None and w.get("per_1000_residents") is not None}
    if not rates:
        return None
    features, points = ward_geometry()
    # wards without requests get a class of their own, the lightest, when others have some
    zero_class = 0 < sum(1 for r in rates.values() if r == 0) < len(rates)
    breaks = map_breaks([r for r in rates.values() if r > 0 or not zero_class])[:2 if zero_class else 3]
    bands = _threshold_labels(breaks) if breaks or not zero_class else ["more than 0"]
    legend_labels = [NO_REQUESTS, *bands] if zero_class else bands
    colours = MAP_CLASSES[-len(legend_labels):]
    shapes = []
    for f in features:
        n = int(f["properties"]["ward_number"])
        rate = rates.get(n)
        band = NO_REQUESTS if zero_class and rate == 0 else _band(rate, breaks, bands)
        shapes.append({"type": "Feature", "geometry": f["geometry"],
                       "properties": {"ward_number": n, "ward_name": f["properties"]["ward_name"],
                                      "rate": rate, "band": band}})
    labels = [{"lon": points[n][0], "lat": points[n][1], "text": str(n)} for n in sorted(points)]
    colour = alt.Color(
        "properties.band:N", title=legend_title,
        scale=alt.Scale(domain=legend_labels, range=colours),
        legend=alt.Legend(orient="top-left", titleFontSize=12, labelFontSize=12, symbolType="square",
                          symbolSize=200, direction="vertical", symbolStrokeWidth=0,
                          fillColor="white", padding=6, titleLimit=260),
    )
    geo = alt.Chart(_inline_data(shapes)).mark_geoshape(stroke="white", strokeWidth=1.2).encode(
        color=colour)
    text = alt.Chart(_inline_data(labels)).mark_text(
        fontSize=11, fontWeight="bold", color="white").encode(
        longitude=alt.Longitude("lon:Q"), latitude=alt.Latitude("lat:Q"), text=alt.Text("text:N"))
    chart = alt.layer(geo, text).project(type="mercator").properties(width=620, height=420)
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


def _threshold_labels(breaks: list[float]) -> list[str]:
    if not breaks:
        return ["All wards"]
    fmt = [f"{int(b):,}" for b in breaks]
    out = [f"under {fmt[0]}"]
    out += [f"{fmt[i]} to under {fmt[i + 1]}" for i in range(len(fmt) - 1)]
    out.append(f"{fmt[-1]} or more")
    return out


def _band(rate: float | None, breaks: list[float], labels: list[str]) -> str | None:
    if rate is None:
        return None
    for i, b in enumerate(breaks):
        if rate < b:
            return labels[i]
    return labels[len(breaks)]


# --------------------------------------------------------------------------- surges


SERIES_COLOURS = [BAR, BAR_BELOW]  # told apart by dash and legend too, not by colour alone
SERIES_DASHES = [[1, 0], [6, 3]]


def cumulative_hours_svg(chart_id: str, series: list[tuple[str, list[int]]], alt_text: str, *,
                         marker: tuple[int, str] | None = None, y_title: str = "Service requests (cumulative)"
                         ) -> str | None:
    """Lines of up to 2 cumulative hourly series (label, 24 values: before 01:00 … before 24:00)
    with an optional labelled vertical rule at a clock hour ((hour, label): the surge profile's cut-off), whose values
    are labelled on each line."""
    series = [(label, values) for label, values in series if values][:len(SERIES_COLOURS)]
    if not series:
        return None
    labels = [label for label, _ in series]
    values = [{"series": label, "hour": h, "value": v}
              for label, vals in series for h, v in enumerate(vals, start=1)]
    hour_axis = alt.Axis(values=[1, 4, 8, 12, 16, 20, 24], labelExpr=(
        "datum.value == 12 ? 'noon' : datum.value == 24 ? 'midnight' : "
        "datum.value < 12 ? datum.value + ' a.m.' : (datum.value - 12) + ' p.m.'"))
    legend = alt.Legend(title=None, orient="top", labelFontSize=12, labelLimit=420, symbolStrokeWidth=3)
    lines = alt.Chart(_inline_data(values)).mark_line(strokeWidth=3).encode(
        x=alt.X("hour:Q", title="Time of day (requests made before)", scale=alt.Scale(domain=[1, 24]),
                axis=hour_axis),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=",d", tickCount=5)),
        color=alt.Color("series:N", scale=alt.Scale(domain=labels, range=SERIES_COLOURS[:len(labels)]),
                        legend=legend),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=labels, range=SERIES_DASHES[:len(labels)]),
                                  legend=legend),
    )
    layers = [lines]
    if marker:
        hour, text = marker
        layers.insert(0, alt.Chart(_inline_data([{"hour": hour}])).mark_rule(
            color=INK, strokeDash=[2, 3]).encode(x=alt.X("hour:Q")))
        at = [{"series": label, "hour": hour, "value": vals[hour - 1], "text": f"{vals[hour - 1]:,}"}
              for label, vals in series]
        layers.append(alt.Chart(_inline_data(at)).mark_text(
            align="right", dx=-6, dy=-8, fontSize=12, fontWeight="bold", color=INK).encode(
            x=alt.X("hour:Q"), y=alt.Y("value:Q"), text=alt.Text("text:N")))
        layers.append(alt.Chart(_inline_data([{"hour": hour, "text": text}])).mark_text(
            align="left", baseline="top", dx=4, fontSize=12, color=INK).encode(
            x=alt.X("hour:Q"), y=alt.YValue(2), text=alt.Text("text:N")))
    chart = alt.layer(*layers).properties(width=560, height=240)
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


def quarterly_bars_svg(chart_id: str, topics: list[tuple[str, list[tuple[str, int, bool, str]]]],
                       alt_text: str) -> str | None:
    """One small column chart per topic (title, [(quarter label, count, surge?, value label)]),
    stacked vertically; surge quarters in brown and named in the legend."""
    topics = [(title, bars) for title, bars in topics if bars]
    if not topics:
        return None
    charts = []
    for title, bars in topics:
        values = [{"quarter": q, "count": n, "text": t, "kind": "Surge quarter" if surge else "Other quarters"}
                  for q, n, surge, t in bars]
        top = max(max(v["count"] for v in values) * 1.18, 1)
        base = alt.Chart(_inline_data(values)).encode(
            x=alt.X("quarter:N", sort=[v["quarter"] for v in values], title=None,
                    axis=alt.Axis(labelAngle=0, labelFontSize=11)))
        columns = base.mark_bar(size=34).encode(
            y=alt.Y("count:Q", title="General inquiries", scale=alt.Scale(domain=[0, top], nice=False),
                    axis=alt.Axis(format=",d", tickCount=4)),
            color=alt.Color("kind:N", scale=alt.Scale(domain=["Other quarters", "Surge quarter"],
                                                      range=[BAR, BAR_BELOW]),
                            legend=alt.Legend(title=None, orient="top", labelFontSize=12)))
        text = base.mark_text(baseline="bottom", dy=-3, fontSize=11, color=INK).encode(
            y=alt.Y("count:Q"), text=alt.Text("text:N"))
        charts.append(alt.layer(columns, text).properties(
            width=560, height=170,
            title=alt.TitleParams(title, color=INK, fontSize=13, anchor="start", limit=560)))
    chart = charts[0] if len(charts) == 1 else alt.vconcat(*charts, spacing=24)
    return accessible_svg(_to_svg(chart), chart_id, alt_text)


# --------------------------------------------------------------------------- BIA trend


def _trend_values(trend: list[dict], month: str) -> list[dict]:
    return [
        {
            "key": t["month"],
            "label": _short_month(t["month"]),
            "count": t["service_requests"],
            "text": f"{t['service_requests']:,}",
            "kind": "Report month" if t["month"] == month else "Earlier months",
        }
        for t in trend if t["service_requests"] is not None
    ]


def _trend_alt(name: str, values: list[dict], month: str) -> str:
    current = next((v for v in values if v["key"] == month), None)
    high = max(values, key=lambda v: (v["count"], v["key"]))
    low = min(values, key=lambda v: (v["count"], v["key"]))
    first, last = fmt_month(values[0]["key"]), fmt_month(values[-1]["key"])
    return (
        f"Column chart of service requests in {name}, by month, {first} to {last}. "
        + (f"{fmt_month(month)}: {current['text']}. " if current else "")
        + f"Highest: {fmt_month(high['key'])} with {high['text']}; "
        f"lowest: {fmt_month(low['key'])} with {low['text']}. "
        "The table below gives every month's figure."
    )


def trend_svg(name: str, trend: list[dict], month: str, chart_id: str = "chart-trend") -> str | None:
    """Column chart of a BIA's SRs over 13 months ({month, service_requests | None}), the
    report month (YYYY-MM) highlighted and labelled."""
    values = _trend_values(trend, month)
    if not values:
        return None
    base = alt.Chart(_inline_data(values)).encode(
        x=alt.X("label:N", sort=[v["label"] for v in values], title=None,
                axis=alt.Axis(labelAngle=0, labelFontSize=11, labelExpr="split(datum.label, ' ')")),
    )
    top = max(v["count"] for v in values)
    bars = base.mark_bar(size=24).encode(
        y=alt.Y("count:Q", title="Service requests", scale=alt.Scale(domain=[0, max(top * 1.15, 4)]),
                axis=alt.Axis(format=",d", tickCount=4, tickMinStep=1)),
        color=alt.Color("kind:N", scale=alt.Scale(domain=["Earlier months", "Report month"],
                                                  range=[EARLIER, BAR]),
                        legend=alt.Legend(title=None, orient="top", labelFontSize=11)),
    )
    labels = base.mark_text(baseline="bottom", dy=-3, fontSize=10, color=INK).encode(
        y=alt.Y("count:Q"), text=alt.Text("text:N"))
    chart = alt.layer(bars, labels).properties(width=430, height=200)
    return accessible_svg(_to_svg(chart), chart_id, _trend_alt(name, values, month))


def _short_month(month: str) -> str:
    """'2024-07' → 'Jul 24' (the trend's axis labels, split onto two lines)."""
    year, mon = month.split("-")
    return f"{MONTHS[int(mon) - 1][:3]} {year[2:]}"


# --------------------------------------------------------------------------- export


def vega_lite(chart: alt.Chart) -> dict:
    """The chart's Vega-Lite spec with the report's configuration.

    Altair's JSON-schema validation is skipped: it gives the same dict, costs more than
    vl-convert's own conversion of these small charts, and vl-convert rejects a bad spec anyway.
    """
    spec = chart.to_dict(validate=False)
    spec["config"] = json.loads(json.dumps(CONFIG))
    return spec


def _to_svg(chart: alt.Chart) -> str:
    return draw_spec(json.dumps(vega_lite(chart), sort_keys=True))


@functools.lru_cache(maxsize=128)
def draw_spec(spec: str) -> str:
    """vl-convert's SVG of a spec (as sorted JSON): the same spec is drawn once per process,
    as when the batch of BIA reports or the three documents share a chart; with a chart cache
    (``use_chart_cache``), once per cache."""
    cached = _CACHE.path(spec)
    if cached is not None and not _CACHE.redraw:
        try:
            svg = cached.read_text(encoding="utf-8")
            os.utime(cached)  # recently used: kept when the cache is pruned
            return svg
        except OSError:
            pass
    _register_fonts()
    svg = vlc.vegalite_to_svg(json.loads(spec))
    if cached is not None:
        _CACHE.keep(cached, svg)
    return svg


class _ChartCache:
    """Drawn SVGs on disk by the SHA-256 of what draws them (see the module doc)."""

    LIMIT = 2000  # files kept: the least recently used go first (a BIA month draws 79)

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.redraw = False

    def path(self, spec: str) -> Path | None:
        if self.folder is None:
            return None
        h = hashlib.sha256(f"{_drawing_software()}\n".encode())
        h.update(spec.encode("utf-8"))
        return self.folder / f"{h.hexdigest()}.svg"

    def keep(self, path: Path, svg: str) -> None:
        try:
            atomic_write(path, svg)
            files = list(path.parent.glob("*.svg"))
            if len(files) > self.LIMIT:
                by_age = sorted(files, key=lambda f: f.stat().st_mtime_ns)
                for old in by_age[:len(files) - self.LIMIT]:
                    old.unlink(missing_ok=True)
        except OSError:  # a cache that cannot be written is only slower
            pass


_CACHE = _ChartCache()


def use_chart_cache(folder: Path | None, redraw: bool = False) -> None:
    """Keep drawn charts in ``folder`` (None: in this process only); with ``redraw`` every
    chart is drawn again (and kept)."""
    _CACHE.folder = None if folder is None else Path(folder)
    _CACHE.redraw = redraw
    draw_spec.cache_clear()


@functools.cache
def _drawing_software() -> str:
    """vl-convert's version and the SHA-256 of each font it lays text out with."""
    from importlib import metadata

    fonts = sorted((TEMPLATES_DIR / "fonts").glob("*.ttf"))
    return "\n".join([f"vl-convert-python=={metadata.version('vl-convert-python')}"]
                     + [f"{f.name} {hashlib.sha256(f.read_bytes()).hexdigest()}" for f in fonts])


@functools.cache
def _register_fonts() -> None:
    """Lay text out with the shipped Lato (the font the report embeds), not a system fallback
    (``vega_runtime.register_fonts``: once, whichever thread draws first)."""
    register_fonts()
