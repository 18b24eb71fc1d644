"""Render the annual report (HTML and tagged PDF/UA-1) from ``key_metrics.json`` data.

Public interface::

    render_annual_report(metrics: dict, meta: dict, out_dir: Path) -> list[Path]

``metrics`` has the shape of ``key_metrics.json`` (see docs / metric definitions); any
section may be ``None``. ``meta`` carries ``demo`` (bool), ``generated_from`` (list of
input file names), ``cancelled_note`` (str | None) and ``not_available`` (list of str).

Both outputs are deterministic: rendering the same input twice gives identical bytes.
The PDF has fixed metadata (no wall-clock dates unless ``SOURCE_DATE_EPOCH`` is set)
and a document identifier derived from its content.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import logging
import os
import re
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from pipeline.paths import TEMPLATES_DIR

REPORT_AUTHOR = "City of Toronto – Customer Experience Division"
AREA = "City of Toronto 311"
MINUS = "\u2212"
NOT_AVAILABLE = "not available in this extract"
NA = "n/a"

CHANNEL_LABELS = {
    "phone": "Phone",
    "email": "E-mail",
    "live_chat": "Live chat",
    "web": "Web",
    "mobile_app": "Mobile app",
    "social": "Social media",
    "in_person": "In person",
    "other": "Other",
}
TYPE_LABELS = {
    "general_inquiry": "General inquiries",
    "service_request": "Service requests",
    "status_update": "Status updates",
}
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]


# --------------------------------------------------------------------------- formatting


def _dec(value: Any) -> Decimal:
    """Exact decimal of a number as written (repr), so 0.815 stays 0.815, not 0.81499…"""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


def _round_int(value: Any) -> int:
    """Round half away from zero to an integer."""
    return int(_dec(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fmt_thousands(value: Any) -> str:
    """1290000 → '1,290,000'; floats are rounded half away from zero; None → 'n/a'."""
    if value is None:
        return NA
    n = _round_int(value)
    s = f"{abs(n):,}"
    return f"{MINUS}{s}" if n < 0 else s


def fmt_decimal(value: Any, places: int = 1) -> str:
    """Fixed decimals with thousands separators, half away from zero; None → 'n/a'."""
    if value is None:
        return NA
    q = _dec(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    s = f"{abs(q):,.{places}f}"
    return f"{MINUS}{s}" if q < 0 else s


def fmt_pct(value: Any, places: int = 0) -> str:
    """Fraction → whole percent, half away from zero: 0.815 → '82%', 0.8149 → '81%'."""
    if value is None:
        return NA
    q = (_dec(value) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)
    s = f"{abs(q):,.{places}f}%"
    return f"{MINUS}{s}" if q < 0 else s


def fmt_signed_pct(value: Any, places: int = 0) -> str:
    """Change as a signed percent with a real minus sign: −0.0493 → '−5%', 0.1 → '+10%'."""
    if value is None:
        return NA
    q = (_dec(value) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    s = f"{abs(q):,.{places}f}%"
    if q == 0:
        return s
    return f"+{s}" if q > 0 else f"{MINUS}{s}"


def fmt_hms(value: Any) -> str:
    """Seconds → H:MM:SS (47 → '0:00:47', 292 → '0:04:52'); None → 'n/a'."""
    if value is None:
        return NA
    total = _round_int(value)
    sign = MINUS if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"


def fmt_month(value: str) -> str:
    """'2024-07' → 'July 2024'."""
    year, month = str(value).split("-")[:2]
    return f"{MONTHS[int(month) - 1]} {year}"


def fmt_long_date(value: str) -> str:
    """'2024-07-16' → 'Tuesday, July 16, 2024'."""
    d = dt.date.fromisoformat(str(value)[:10])
    return f"{d.strftime('%A')}, {MONTHS[d.month - 1]} {d.day}, {d.year}"


def fmt_duration_words(value: Any) -> str:
    """Seconds → plain words for screen text: 292 → '4 minutes 52 seconds'."""
    if value is None:
        return NOT_AVAILABLE
    total = _round_int(value)
    minutes, seconds = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if seconds or not parts:
        parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
    return " ".join(parts)


# --------------------------------------------------------------------------- environment


def _make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        thousands=fmt_thousands,
        pct=fmt_pct,
        hms=fmt_hms,
        signed_pct=fmt_signed_pct,
        decimal=fmt_decimal,
        month=fmt_month,
        long_date=fmt_long_date,
        duration_words=fmt_duration_words,
    )
    env.globals.update(NA=NA, NOT_AVAILABLE=NOT_AVAILABLE, MINUS=MINUS)
    return env


ENV = _make_env()


# --------------------------------------------------------------------------- stylesheets

_FONT_URL = re.compile(r'url\("(fonts/[A-Za-z0-9._-]+\.ttf)"\)(\s*format\("truetype"\))?')

# Characters the HTML needs from the embedded font: Basic Latin, Latin-1, Latin Extended-A
# (accented ward and street names) and general punctuation (dashes, quotes, minus sign).
_SUBSET_UNICODES = (
    list(range(0x20, 0x7F)) + list(range(0xA0, 0x180)) + list(range(0x2010, 0x2027))
    + [0x2030, 0x2039, 0x203A, 0x20AC, 0x2122, 0x2212, 0x2264, 0x2265]
)


@functools.cache
def _font_data_url(rel: str) -> str:
    """A subsetted WOFF2 of a shipped font as a data: URL (keeps the HTML self-contained)."""
    path = TEMPLATES_DIR / rel
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        logging.getLogger("fontTools").setLevel(logging.ERROR)
        font = TTFont(str(path))
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["kern", "liga", "tnum", "lnum"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_SUBSET_UNICODES)
        subsetter.subset(font)
        buf = io.BytesIO()
        font.flavor = "woff2"
        font.save(buf, reorderTables=True)
        data, fmt = buf.getvalue(), "woff2"
    except Exception:  # pragma: no cover - fontTools/brotli missing: embed the TTF as is
        data, fmt = path.read_bytes(), "truetype"
    return f'url("data:font/{fmt};base64,{base64.b64encode(data).decode("ascii")}") format("{fmt}")'


@functools.cache
def _stylesheet(kind: str) -> str:
    """CSS text for one output kind: 'html' (screen + print media) or 'pdf' (WeasyPrint)."""
    css = (TEMPLATES_DIR / "css" / f"{kind}.css").read_text(encoding="utf-8")
    if kind == "html":
        css = _FONT_URL.sub(lambda m: _font_data_url(m.group(1)), css)
    return css


# --------------------------------------------------------------------------- context


def _prior_year(metrics: dict) -> int:
    return int(metrics["year"]) - 1


def _build_context(metrics: dict, meta: dict, output: str) -> dict:
    year = int(metrics["year"])
    title = f"311 Toronto Customer Experience Annual Report {year}"
    demo = bool(meta.get("demo"))
    if demo:
        title += " (synthetic demo data)"

    interactions = metrics.get("interactions")
    type_rows: list[dict] = []
    channel_rows: list[dict] = []
    if interactions:
        total = interactions.get("total") or 0
        for key, count in (interactions.get("by_type") or {}).items():
            type_rows.append({
                "key": key,
                "label": TYPE_LABELS.get(key, key.replace("_", " ").capitalize()),
                "count": count,
                "share": (count / total) if total else None,
            })
        changes = interactions.get("channel_change_vs_prior_year") or {}
        for key, count in sorted((interactions.get("by_channel") or {}).items(),
                                 key=lambda kv: (-kv[1], kv[0])):
            channel_rows.append({
                "label": CHANNEL_LABELS.get(key, key.replace("_", " ").capitalize()),
                "count": count,
                "share": (count / total) if total else None,
                "change": changes.get(key),
            })

    srs = metrics.get("service_requests")
    wards: list[dict] = []
    if srs:
        wards = sorted(srs.get("by_ward") or [],
                       key=lambda w: (w.get("ward_number") is None, w.get("ward_number") or 0))

    charts = _charts(metrics)

    sections = [
        ("summary", "Summary"),
        ("general-inquiries", "General inquiries"),
        ("service-requests", "Service requests"),
        ("phone", "Phone channel service levels"),
        ("surges", "Surges"),
        ("wards", "Service requests by ward"),
        ("data-notes", "Data notes"),
    ]
    return {
        "output": output,
        "stylesheet": Markup(_stylesheet(output)),
        "title": title,
        "report_name": f"311 Toronto Customer Experience Annual Report {year}",
        "description": (f"Annual report of 311 Toronto's Customer Experience Division for "
                        f"January 1 to December 31, {year}: interactions, service requests, "
                        f"phone service levels and service requests by ward."),
        "author": REPORT_AUTHOR,
        "area": AREA,
        "period": f"January 1 to December 31, {year}",
        "year": year,
        "prior_year": _prior_year(metrics),
        "m": metrics,
        "meta": {
            "demo": demo,
            "generated_from": list(meta.get("generated_from") or []),
            "cancelled_note": meta.get("cancelled_note"),
            "not_available": list(meta.get("not_available") or []),
        },
        "demo": demo,
        "type_rows": type_rows,
        "channel_rows": channel_rows,
        "wards": wards,
        "sections": sections,
        "charts": charts,
        "source_date": _source_date(),
    }


def _charts(metrics: dict) -> dict:
    """Inline SVG charts (Markup) keyed by name; None where the data is absent."""
    from pipeline import charts

    out: dict[str, Markup | None] = {"top_types": None, "monthly_service_level": None}
    srs = metrics.get("service_requests") or {}
    phone = metrics.get("phone") or {}
    if srs.get("top_types"):
        svg = charts.top_types_svg(srs["top_types"], "chart-top-types")
        out["top_types"] = Markup(svg) if svg else None
    if phone.get("monthly") and phone.get("target") is not None:
        svg = charts.monthly_service_level_svg(phone["monthly"], phone["target"],
                                               "chart-monthly-sl")
        out["monthly_service_level"] = Markup(svg) if svg else None
    return out


def _source_date() -> str | None:
    """W3C date for the PDF metadata from SOURCE_DATE_EPOCH, or None (no dates: reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    stamp = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- rendering


def render_html(metrics: dict, meta: dict, output: str = "html") -> str:
    """The report as one self-contained HTML string ('html' for screen, 'pdf' for WeasyPrint)."""
    template = ENV.get_template("annual_report.html")
    return template.render(**_build_context(metrics, meta, output))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def html_to_pdf(html: str) -> bytes:
    """Tagged PDF/UA-1 bytes from the print HTML, reproducibly."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR / "annual_report.html"))
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return document.write_pdf(
        pdf_variant="pdf/ua-1",
        pdf_identifier=identifier,
        font_config=font_config,
        custom_metadata=False,
    )


def render_annual_report(metrics: dict, meta: dict, out_dir: Path) -> list[Path]:
    """Write ``cx-annual-report-<year>.html`` and ``.pdf`` to ``out_dir``; return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    year = int(metrics["year"])
    stem = f"cx-annual-report-{year}"

    html = render_html(metrics, meta, "html")
    pdf = html_to_pdf(render_html(metrics, meta, "pdf"))

    html_path = out_dir / f"{stem}.html"
    pdf_path = out_dir / f"{stem}.pdf"
    _atomic_write(html_path, html.encode("utf-8"))
    _atomic_write(pdf_path, pdf)
    return [html_path, pdf_path]
