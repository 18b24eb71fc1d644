"""Stylesheets and embedded fonts (pipeline/report/styles.py). That the shipped web fonts are
the subsets of the TTFs (seconds of font compression) is in tests/integration/test_fonts.py."""

from __future__ import annotations

import re

from pipeline.report import styles


def test_html_stylesheet_embeds_the_fonts_and_pdf_stylesheet_reads_the_ttfs():
    html, pdf = styles.stylesheet("html"), styles.stylesheet("pdf")
    assert 'url("fonts/' not in html and 'url("data:font/woff2;base64,' in html
    assert not re.search(r"url\((?!\"?data:)", html)
    assert 'url("data:' not in pdf


def test_extra_stylesheet_follows_on_a_new_line():
    bia = (styles.CSS_DIR / "bia.css").read_text(encoding="utf-8")
    for kind in ("html", "pdf"):
        assert styles.stylesheet(kind, "bia.css") == styles.stylesheet(kind) + "\n" + bia
