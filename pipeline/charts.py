"""Accessible, deterministic SVG charts for the reports (Altair → vl-convert → inline SVG).

Every chart is returned as SVG markup whose root ``<svg>`` has ``role="img"`` and
``aria-labelledby`` pointing at a first-child ``<title>`` holding alt text generated from
the data (WeasyPrint turns that into the PDF Figure's /Alt). All ids inside the SVG are
prefixed with the chart id, so several charts can be inlined in one page and the output is
the same on every run. The report always shows a data table under each chart.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

import altair as alt
import vl_convert as vlc

FONT = "Lato"
INK = "#1b1b1b"
BAR = "#0b3a5b"          # 11.9:1 on white
BAR_BELOW = "#8a5a00"    # 5.9:1 on white; used for months below target (also labelled in text)
TARGET = "#b00020"       # 6.6:1 on white
GRID = "#c4ced6"


def _pct(value: float) -> str:
    q = (Decimal(repr(float(value))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{q}%"


def _config(chart: alt.Chart) -> alt.Chart:
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelColor=INK, titleColor=INK, labelFontSize=12, titleFontSize=12,
                        gridColor=GRID, domainColor=INK, tickColor=INK)
    )


def _accessible_svg(svg: str, chart_id: str, alt_text: str) -> str:
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
        style = f' style="max-width:{width.group(1)}px"'
    root = (f'<svg{attrs} class="chart" role="img" aria-labelledby="{title_id}"'
            f' preserveAspectRatio="xMinYMin meet"{style}>')
    title = f'<title id="{title_id}">{escape(alt_text)}</title>'
    return root + title + svg[match.end():]


def monthly_service_level_svg(monthly: list[dict], target: float, chart_id: str) -> str | None:
    """Bar chart of phone service level by month with the target as a labelled line."""
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
            "status": "Met target" if r["service_level"] >= target else "Below target",
        }
        for i, r in enumerate(rows)
    ]
    data = alt.Data(values=values)
    base = alt.Chart(data).encode(
        x=alt.X("month:N", sort=[v["month"] for v in values], title=None,
                axis=alt.Axis(labelAngle=0)),
    )
    bars = base.mark_bar(size=26).encode(
        y=alt.Y("sl:Q", title="Calls answered within 75 seconds",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", tickCount=5)),
        color=alt.Color("status:N", scale=alt.Scale(domain=["Met target", "Below target"],
                                                    range=[BAR, BAR_BELOW]),
                        legend=alt.Legend(title=None, orient="top", labelFontSize=12)),
    )
    # Value labels sit at the foot of each bar, clear of the target line.
    labels = base.mark_text(baseline="bottom", dy=-5, fontSize=11, color="white",
                            fontWeight="bold").encode(y=alt.datum(0), text="label:N")
    rule_data = alt.Data(values=[{"t": target, "label": f"Target {_pct(target)}"}])
    rule = alt.Chart(rule_data).mark_rule(color=TARGET, strokeWidth=2, strokeDash=[6, 3]).encode(
        y="t:Q")
    rule_label = alt.Chart(rule_data).mark_text(
        align="left", baseline="middle", dx=6, color=TARGET, fontSize=12, fontWeight="bold",
    ).encode(y="t:Q", text="label:N", x=alt.value(560))
    chart = alt.layer(rule, bars, labels, rule_label).properties(width=560, height=240)
    svg = vlc.vegalite_to_svg(_config(chart).to_dict())
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
    return _accessible_svg(svg, chart_id, alt_text)


def top_types_svg(top_types: list[dict], chart_id: str) -> str | None:
    """Horizontal bar chart of the top service request types, with direct value labels."""
    if not top_types:
        return None
    values = [{"sr_type": t["sr_type"], "count": t["count"], "order": i,
               "label": f"{t['count']:,}"} for i, t in enumerate(top_types)]
    data = alt.Data(values=values)
    base = alt.Chart(data).encode(
        y=alt.Y("sr_type:N", sort=[v["sr_type"] for v in values], title=None,
                axis=alt.Axis(labelLimit=300, labelFontSize=12)),
    )
    bars = base.mark_bar(color=BAR, size=22).encode(
        x=alt.X("count:Q", title="Service requests", axis=alt.Axis(format=",d", tickCount=4)))
    labels = base.mark_text(align="left", dx=4, fontSize=12, color=INK).encode(
        x="count:Q", text="label:N")
    chart = alt.layer(bars, labels).properties(width=340, height=30 * len(values))
    svg = vlc.vegalite_to_svg(_config(chart).to_dict())
    parts = [f"{v['sr_type']} {v['label']}" for v in values]
    alt_text = (f"Bar chart of the {len(values)} most frequent service request types: "
                + "; ".join(parts) + ".")
    return _accessible_svg(svg, chart_id, alt_text)


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
