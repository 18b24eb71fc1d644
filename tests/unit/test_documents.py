"""The three documents' HTML (pipeline/report/annual.py, context.py, chart_specs.py) without
laying out a PDF: figures, missing data, escaping. The PDFs and the browser checks are in
tests/integration/test_render.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from pipeline.report.annual import render_html
from pipeline.report.chart_specs import key_metric_specs
from pipeline.report.formatting import fmt_decimal, fmt_hms, fmt_pct, fmt_thousands
from tests.integration import a11y

FIXTURE = Path(__file__).parent.parent / "fixtures" / "key_metrics_sample.json"
META = {
    "demo": True,
    "generated_from": ["2024/interactions_2024.parquet", "2024/service_requests_2024.parquet"],
    "cancelled_note": "Cancelled requests include duplicates merged by divisions.",
    "not_available": [],
}
KINDS = ("annual", "appendix_a", "appendix_b")


def load_metrics() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_no_demo_notice_for_real_data():
    html = render_html(load_metrics(), {**META, "demo": False})
    assert "Synthetic demo data" not in html
    assert "synthetic" not in a11y.html_title(html).lower()


def test_null_sections_and_metrics_render_not_available():
    metrics = load_metrics()
    metrics["knowledge_base"] = None
    metrics["phone"] = None
    metrics["email"] = None
    metrics["service_requests"]["median_days_to_close"] = None
    metrics["service_requests"]["on_time_rate"] = None
    html = render_html(metrics, META)
    assert "Median days to close</th><td class=\"num\">not available in this extract" in html
    assert "Closed on time (within the service standard)</th><td class=\"num\">not available" in html
    assert "Phone service levels: not available in this extract" in html
    assert "Knowledge-base article views: not available in this extract" in html
    assert a11y.html_structure_problems(html) == []


def test_everything_null_still_renders():
    metrics = {"year": 2024, "interactions": None, "general_inquiries": None, "phone": None,
               "email": None, "service_requests": None, "knowledge_base": None,
               "data_quality": None}
    html = render_html(metrics, {"demo": False, "generated_from": [],
                                 "cancelled_note": None, "not_available": []})
    assert "not available in this extract" in html
    assert ">0<" not in html and ">0%<" not in html
    assert a11y.html_structure_problems(html) == []


def test_markup_in_data_is_escaped():
    metrics = load_metrics()
    evil = "<script>alert(1)</script>"
    metrics["service_requests"]["top_types"][0]["sr_type"] = evil
    metrics["service_requests"]["by_ward"][0]["ward_name"] = evil
    meta = copy.deepcopy(META)
    meta["cancelled_note"] = evil
    meta["generated_from"] = [evil]
    html = render_html(metrics, meta)
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


# --------------------------------------------------------------------------- figures vs key_metrics


def test_every_table_figure_comes_from_key_metrics():
    """Every cell of the appendices' tables is a value of key_metrics formatted by a filter."""
    metrics = load_metrics()
    specs = key_metric_specs(metrics, with_svg=False)
    by_id = {s.id: s for s in specs}
    top = metrics["service_requests"]["top_types"]
    assert by_id["top-types"].rows[0] == ["1", top[0]["sr_type"], fmt_thousands(top[0]["count"]),
                                          fmt_pct(top[0]["count"] / metrics["service_requests"]["total"])]
    months = metrics["phone"]["monthly"]
    assert [r[1] for r in by_id["service-level"].rows] == [fmt_pct(m["service_level"]) for m in months]
    assert [r[1] for r in by_id["asa-monthly"].rows] == [fmt_hms(m["asa_seconds"]) for m in months]
    wards = {w["ward_name"]: w for w in metrics["service_requests"]["by_ward"]}
    for row in by_id["ward-map"].rows:
        w = wards[row[1]]
        assert row[2:] == [fmt_thousands(w["count"]), fmt_decimal(w["per_1000_residents"], 1)]
    kb = metrics["knowledge_base"]["top_articles"]
    assert [r[1:] for r in by_id["kb-articles"].rows] == [[a["article_title"], fmt_thousands(a["views"])] for a in kb]


# --------------------------------------------------------------------------- injection


def test_markup_in_data_is_text_in_all_three_documents():
    metrics = load_metrics()
    evil = "<script>alert(1)</script>"
    metrics["service_requests"]["top_types"][0]["sr_type"] = evil
    metrics["service_requests"]["by_division"][0]["division"] = evil
    metrics["knowledge_base"]["top_articles"][0]["article_title"] = evil
    specs = key_metric_specs(metrics)
    for kind in KINDS:
        for output in ("html", "pdf"):
            html = render_html(metrics, META, output, kind, specs)
            assert "<script" not in html, (kind, output)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, (kind, output)
