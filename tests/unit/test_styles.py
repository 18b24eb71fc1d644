"""Stylesheets and embedded fonts (pipeline/report/styles.py)."""

from __future__ import annotations

import re

from pipeline.paths import TEMPLATES_DIR
from pipeline.report import styles


def test_shipped_web_fonts_match_the_ttfs():
    """report_templates/fonts/web/*.woff2 are the subsets the HTML stylesheet would make
    (rebuild with ``python -c 'from pipeline.report.styles import build_web_fonts; build_web_fonts()'``)."""
    ttfs = sorted((TEMPLATES_DIR / "fonts").glob("*.ttf"))
    assert ttfs
    for ttf in ttfs:
        shipped = styles.WEB_FONTS_DIR / f"{ttf.stem}.woff2"
        assert shipped.read_bytes() == styles.subset_font(ttf), shipped.name


def test_html_stylesheet_embeds_the_fonts_and_pdf_stylesheet_reads_the_ttfs():
    html, pdf = styles.stylesheet("html"), styles.stylesheet("pdf")
    assert 'url("fonts/' not in html and 'url("data:font/woff2;base64,' in html
    assert not re.search(r"url\((?!\"?data:)", html)
    assert 'url("data:' not in pdf


def test_extra_stylesheet_follows_on_a_new_line():
    bia = (styles.CSS_DIR / "bia.css").read_text(encoding="utf-8")
    for kind in ("html", "pdf"):
        assert styles.stylesheet(kind, "bia.css") == styles.stylesheet(kind) + "\n" + bia
