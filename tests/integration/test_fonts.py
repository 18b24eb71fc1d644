"""The shipped web fonts (report_templates/fonts/web/*.woff2) hold what the HTML needs from the
shipped TTFs. They are compared by content, not by bytes: a WOFF2 file is a compressor's output,
and a newer fontTools or Brotli writes other bytes for the same font (fontTools 4.69.1 did).
The reports' own byte-identical reruns hold because the HTML embeds these committed files."""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont

from pipeline.paths import TEMPLATES_DIR
from pipeline.report import styles

TTFS = sorted((TEMPLATES_DIR / "fonts").glob("*.ttf"))
# The tables a browser needs to draw the text: outlines, metrics, names, the character map,
# and the layout tables that carry kerning and ligatures.
NEEDED_TABLES = {"cmap", "glyf", "loca", "head", "hhea", "hmtx", "maxp", "name", "OS/2", "post", "GPOS", "GSUB"}
NAME_IDS = (1, 2, 4, 6)  # family, subfamily, full name, PostScript name


def test_every_shipped_ttf_has_a_web_font():
    assert [p.stem for p in TTFS] == ["Lato-Bold", "Lato-Italic", "Lato-Regular"]
    assert sorted(p.stem for p in styles.WEB_FONTS_DIR.glob("*.woff2")) == [p.stem for p in TTFS]


@pytest.mark.parametrize("ttf", TTFS, ids=lambda p: p.stem)
def test_web_font_holds_what_the_html_needs(ttf):
    source = TTFont(str(ttf))
    web = TTFont(str(styles.WEB_FONTS_DIR / f"{ttf.stem}.woff2"))
    assert web.flavor == "woff2"
    assert NEEDED_TABLES <= set(web.keys()), NEEDED_TABLES - set(web.keys())

    # glyph coverage: every character the subset asks for that the TTF has, and no other
    wanted = set(styles.SUBSET_UNICODES) & set(source.getBestCmap())
    # Basic Latin 0x20-0x7E (95) + Latin-1 and Latin Extended-A 0xA0-0x17F (224) = 319 code
    # points, all in Lato, before any punctuation
    assert set(range(0x20, 0x7F)) | set(range(0xA0, 0x180)) <= wanted
    assert set(web.getBestCmap()) == wanted
    for code in (ord("é"), ord("–"), 0x2212, ord("≥")):  # accented names, dashes, the minus sign
        assert code in web.getBestCmap(), hex(code)

    # the same glyph for each character: same advance width and the same outline bounds
    src_cmap, web_cmap = source.getBestCmap(), web.getBestCmap()
    src_glyf, web_glyf = source["glyf"], web["glyf"]
    for code in sorted(wanted):
        a, b = src_cmap[code], web_cmap[code]
        assert web["hmtx"][b] == source["hmtx"][a], hex(code)
        ga, gb = src_glyf[a], web_glyf[b]
        ga.recalcBounds(src_glyf), gb.recalcBounds(web_glyf)
        assert (getattr(gb, "xMin", None), getattr(gb, "yMax", None)) == (
            getattr(ga, "xMin", None), getattr(ga, "yMax", None)), hex(code)

    # the names the stylesheet's @font-face and a reader's font list see
    for name_id in NAME_IDS:
        assert web["name"].getDebugName(name_id) == source["name"].getDebugName(name_id), name_id
    assert web["OS/2"].usWeightClass == source["OS/2"].usWeightClass
    assert web["head"].unitsPerEm == source["head"].unitsPerEm

    # kerning and ligatures survive the subset
    features = {r.FeatureTag for r in web["GPOS"].table.FeatureList.FeatureRecord}
    features |= {r.FeatureTag for r in web["GSUB"].table.FeatureList.FeatureRecord}
    assert {"kern", "liga"} <= features


def test_a_fresh_subset_holds_the_same_characters(tmp_path):
    """What `build_web_fonts` would write today covers the same characters as what is shipped
    (its bytes may differ with the fontTools version)."""
    ttf = TEMPLATES_DIR / "fonts" / "Lato-Regular.ttf"
    fresh = tmp_path / "fresh.woff2"
    fresh.write_bytes(styles.subset_font(ttf))
    shipped = TTFont(str(styles.WEB_FONTS_DIR / "Lato-Regular.woff2"))
    assert set(TTFont(str(fresh)).getBestCmap()) == set(shipped.getBestCmap())
