"""The documents' stylesheets and the fonts the HTML embeds.

Public interface::

    stylesheet(kind, *extra) -> str     # CSS text for 'html' (fonts embedded) or 'pdf'
    with_names(css, words) -> str       # the running heads' {{ area }} and {{ city }} filled in
    subset_font(path) -> bytes          # WOFF2 subset of a shipped TTF
    build_web_fonts() -> list[Path]     # regenerate report_templates/fonts/web/*.woff2
    forget_stylesheets()                # read the CSS and fonts again at the next call (the preview)

The HTML is self-contained: its ``url("fonts/….ttf")`` references become data: URLs of the
shipped WOFF2 subsets. WeasyPrint reads the TTFs themselves (the PDF stylesheet is untouched).
"""

from __future__ import annotations

import base64
import functools
import io
import logging
import re
from pathlib import Path

from ..paths import TEMPLATES_DIR

CSS_DIR = TEMPLATES_DIR / "css"
WEB_FONTS_DIR = TEMPLATES_DIR / "fonts" / "web"

_FONT_URL = re.compile(r'url\("(fonts/[A-Za-z0-9._-]+\.ttf)"\)(\s*format\("truetype"\))?')

# Characters the HTML needs from the embedded font: Basic Latin, Latin-1, Latin Extended-A
# (accented ward and street names) and general punctuation (dashes, quotes, minus sign).
SUBSET_UNICODES = (
    list(range(0x20, 0x7F)) + list(range(0xA0, 0x180)) + list(range(0x2010, 0x2027))
    + [0x2030, 0x2039, 0x203A, 0x20AC, 0x2122, 0x2212, 0x2264, 0x2265]
)


def subset_font(path: Path) -> bytes:
    """A WOFF2 subset (``SUBSET_UNICODES``) of a shipped TTF, reproducibly."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(str(path), recalcTimestamp=False)  # no save-time stamp
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "tnum", "lnum"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=SUBSET_UNICODES)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff2"
    font.save(buf, reorderTables=True)
    return buf.getvalue()


def build_web_fonts() -> list[Path]:
    """Write the WOFF2 subsets the HTML embeds to report_templates/fonts/web/ (shipped, so a
    render does not spend seconds subsetting; tests check they hold the TTFs' glyphs, names
    and layout tables)."""
    WEB_FONTS_DIR.mkdir(exist_ok=True)
    written = []
    for ttf in sorted((TEMPLATES_DIR / "fonts").glob("*.ttf")):
        target = WEB_FONTS_DIR / f"{ttf.stem}.woff2"
        target.write_bytes(subset_font(ttf))
        written.append(target)
    return written


@functools.cache
def _font_data_url(rel: str) -> str:
    """A subsetted WOFF2 of a shipped font as a data: URL (keeps the HTML self-contained)."""
    path = TEMPLATES_DIR / rel
    shipped = WEB_FONTS_DIR / f"{path.stem}.woff2"
    if shipped.exists():
        data, fmt = shipped.read_bytes(), "woff2"
    else:
        try:
            data, fmt = subset_font(path), "woff2"
        except Exception:  # pragma: no cover - fontTools/brotli missing: embed the TTF as is
            data, fmt = path.read_bytes(), "truetype"
    return f'url("data:font/{fmt};base64,{base64.b64encode(data).decode("ascii")}") format("{fmt}")'


_NAME_TOKEN = re.compile(r"\{\{ (area|city) \}\}")


def with_names(css: str, words: dict[str, str]) -> str:
    """``css`` with the city profile's names in place of ``{{ area }}`` and ``{{ city }}`` (the
    PDF's running heads: margin boxes cannot read the page's text), escaped for a CSS string."""
    def escaped(match: re.Match) -> str:
        text = words[match.group(1)]
        return text.replace("\\", "\\5c ").replace('"', "\\22 ").replace("<", "\\3c ").replace("\n", " ")

    return _NAME_TOKEN.sub(escaped, css)


def forget_stylesheets() -> None:
    """Forget the stylesheets and font data read so far: the next ``stylesheet`` reads the
    files again (the preview, after a save under report_templates/)."""
    stylesheet.cache_clear()
    _font_data_url.cache_clear()


def _css(name: str) -> str:
    return (CSS_DIR / name).read_text(encoding="utf-8")


@functools.cache
def stylesheet(kind: str, *extra: str) -> str:
    """CSS text for one output kind: 'html' (screen + print media, fonts embedded as data:
    URLs) or 'pdf' (WeasyPrint): css/common.css, css/<kind>.css, then each ``extra`` file of
    css/ (e.g. 'bia.css') on a new line."""
    css = _css("common.css") + _css(f"{kind}.css")
    for name in extra:
        css += "\n" + _css(name)
    if kind == "html":
        css = _FONT_URL.sub(lambda m: _font_data_url(m.group(1)), css)
    return css
