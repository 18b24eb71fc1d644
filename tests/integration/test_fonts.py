"""The shipped web fonts (report_templates/fonts/web/*.woff2) are the subsets the HTML
stylesheet would make from the shipped TTFs: subsetting and WOFF2 compression take seconds,
so this check lives in the integration layer."""

from __future__ import annotations

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
