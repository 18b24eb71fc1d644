"""Reusable accessibility checks for generated reports (PDF and HTML).

PDF checks use pikepdf and the ``pdfua`` validator; HTML checks use Python's html.parser
(structure) and, in tests, axe-core in Chromium via Playwright (``axe_violations``).
Every function returns a list of problems (empty = pass), so tests can assert ``== []``
and show all problems at once.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

import pikepdf

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# pdfua rules whose findings are known not to apply:
#  - UA-14-001 (empty headings) crashes with pikepdf 10 and is skipped by pdfua; replaced by
#    ``pdf_empty_headings`` below.
KNOWN_SKIPPED_RULES = {"UA-14-001"}


# --------------------------------------------------------------------------- PDF


@functools.lru_cache(maxsize=16)
def _pdfua_report(path: str, mtime_ns: int, size: int):
    """pdfua's report on a PDF, validated once per version of the file (about 1 s each)."""
    import pdfua

    return pdfua.validate(path)


def pdfua_report(path: Path):
    stat = Path(path).stat()
    return _pdfua_report(str(path), stat.st_mtime_ns, stat.st_size)


def pdfua_errors(path: Path) -> list[str]:
    """pdfua findings with severity ERROR and confidence CERTAIN (heuristics are ignored)."""
    from pdfua import Confidence, Severity

    report = pdfua_report(path)
    return [
        f"{f.rule_id}: {f.message} ({f.location.describe()})"
        for f in report.findings
        if f.severity == Severity.ERROR and f.confidence == Confidence.CERTAIN
    ]


def pdfua_skipped(path: Path) -> list[str]:
    """Rules pdfua could not run on this file, other than the known-skipped ones."""
    report = pdfua_report(path)
    return [
        f"{o.rule_id}: {o.skipped_reason}"
        for o in report.skipped
        if o.rule_id not in KNOWN_SKIPPED_RULES
    ]


def _struct_kids(elem: pikepdf.Object) -> list[pikepdf.Object]:
    kids = elem.get("/K")
    if kids is None:
        return []
    if isinstance(kids, pikepdf.Array):
        return list(kids)
    return [kids]


def _is_struct_elem(obj: pikepdf.Object) -> bool:
    return isinstance(obj, pikepdf.Dictionary) and "/S" in obj and obj.get("/Type") != "/MCR" \
        and obj.get("/Type") != "/OBJR"


def iter_struct_elems(pdf: pikepdf.Pdf):
    """Depth-first walk over all structure elements below /StructTreeRoot."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return
    stack = list(reversed(_struct_kids(root)))
    seen: set[tuple[int, int]] = set()
    while stack:
        elem = stack.pop()
        if not _is_struct_elem(elem):
            continue
        if elem.is_indirect:
            key = elem.objgen
            if key in seen:
                continue
            seen.add(key)
        yield elem
        stack.extend(reversed(_struct_kids(elem)))


def struct_role(pdf: pikepdf.Pdf, elem: pikepdf.Object) -> str:
    """The standard role of a structure element: its /S, through the /RoleMap."""
    role = str(elem["/S"]).lstrip("/")
    rolemap = pdf.Root.StructTreeRoot.get("/RoleMap")
    seen = set()
    while rolemap is not None and "/" + role in rolemap and role not in seen:
        seen.add(role)
        role = str(rolemap["/" + role]).lstrip("/")
    return role


def _mcids_by_page(elem: pikepdf.Object, page: pikepdf.Object | None, out: dict) -> None:
    """Collect (page objgen → set of MCIDs) of content marked for ``elem`` and descendants."""
    page = elem.get("/Pg", page)
    for kid in _struct_kids(elem):
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Object) and kid._type_name == "integer"):
            if page is not None:
                out.setdefault(page.objgen, set()).add(int(kid))
        elif isinstance(kid, pikepdf.Dictionary):
            if kid.get("/Type") == "/MCR":
                pg = kid.get("/Pg", page)
                if pg is not None:
                    out.setdefault(pg.objgen, set()).add(int(kid["/MCID"]))
            elif "/S" in kid:
                _mcids_by_page(kid, page, out)


_TJ = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>")


def _marked_content_has_text(pdf: pikepdf.Pdf, wanted: dict) -> bool:
    """True if any marked-content sequence with a wanted MCID draws text (Tj/TJ with glyphs)."""
    for page in pdf.pages:
        mcids = wanted.get(page.obj.objgen)
        if not mcids:
            continue
        stack: list[int | None] = []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                mcid = None
                if op == "BDC" and len(operands) > 1 and isinstance(operands[1], pikepdf.Dictionary):
                    mcid = operands[1].get("/MCID")
                    mcid = int(mcid) if mcid is not None else None
                stack.append(mcid)
            elif op == "EMC":
                if stack:
                    stack.pop()
            elif op in ("Tj", "TJ", "'", '"') and any(m in mcids for m in stack if m is not None):
                text = operands[-1]
                if isinstance(text, pikepdf.Array):
                    if any(isinstance(t, pikepdf.String) and len(bytes(t)) for t in text):
                        return True
                elif len(bytes(text)):
                    return True
    return False


def pdf_empty_headings(path: Path) -> list[str]:
    """H and H1–H6 structure elements that carry no text (replacement for pdfua UA-14-001)."""
    problems = []
    with pikepdf.open(path) as pdf:
        for elem in iter_struct_elems(pdf):
            role = struct_role(pdf, elem)
            if not re.fullmatch(r"H[1-6]?", role):
                continue
            if str(elem.get("/ActualText", "")).strip() or str(elem.get("/Alt", "")).strip():
                continue
            wanted: dict = {}
            _mcids_by_page(elem, None, wanted)
            if not wanted or not _marked_content_has_text(pdf, wanted):
                problems.append(f"empty heading /{role} ({elem.objgen})")
    return problems


def pdf_headings(path: Path) -> list[str]:
    """Roles of all heading structure elements, in document order (e.g. ['H1', 'H2', ...])."""
    with pikepdf.open(path) as pdf:
        return [r for e in iter_struct_elems(pdf) if re.fullmatch(r"H[1-6]?", r := struct_role(pdf, e))]


def pdf_figures_without_alt(path: Path) -> tuple[int, list[str]]:
    """(number of /Figure elements, problems for those without a non-empty /Alt)."""
    count, problems = 0, []
    with pikepdf.open(path) as pdf:
        for elem in iter_struct_elems(pdf):
            if struct_role(pdf, elem) != "Figure":
                continue
            count += 1
            alt = str(elem.get("/Alt", "")).strip()
            if not alt:
                problems.append(f"Figure {elem.objgen} has no /Alt")
    return count, problems


def pdf_document_problems(path: Path, *, lang: str, title: str) -> list[str]:
    """Catalog-level checks: /Lang, title in Info, DisplayDocTitle, marked, struct tree."""
    problems = []
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        if str(root.get("/Lang", "")) != lang:
            problems.append(f"/Lang is {root.get('/Lang')!r}, expected {lang!r}")
        doc_title = str(pdf.docinfo.get("/Title", ""))
        if doc_title != title:
            problems.append(f"Info /Title is {doc_title!r}, expected {title!r}")
        with pdf.open_metadata() as xmp:
            xmp_title = xmp.get("dc:title")
        if xmp_title and xmp_title != title:
            problems.append(f"XMP dc:title is {xmp_title!r}, expected {title!r}")
        prefs = root.get("/ViewerPreferences")
        if prefs is None or not bool(prefs.get("/DisplayDocTitle", False)):
            problems.append("ViewerPreferences /DisplayDocTitle is not true")
        mark = root.get("/MarkInfo")
        if mark is None or not bool(mark.get("/Marked", False)):
            problems.append("MarkInfo /Marked is not true")
        if "/StructTreeRoot" not in root:
            problems.append("no /StructTreeRoot (untagged PDF)")
    return problems


def pdf_ua_problems(path: Path, *, lang: str, title: str) -> list[str]:
    """Every PDF check above at once: pdfua's certain errors and skipped rules, empty headings,
    the catalog (language, title, tagged) and figures without alt text."""
    return (pdfua_errors(path) + pdfua_skipped(path) + pdf_empty_headings(path)
            + pdf_document_problems(path, lang=lang, title=title) + pdf_figures_without_alt(path)[1])


def pdf_bookmarks(path: Path) -> list[str]:
    """The titles of the PDF's bookmarks (its outline), depth first."""
    def walk(items) -> list[str]:
        return [t for item in items for t in [item.title, *walk(item.children)]]

    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        return walk(outline.root)


# --------------------------------------------------------------------------- HTML structure


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.title: str | None = None
        self._in_title = False
        self._svg_depth = 0
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.tables = 0
        self.captions = 0
        self.tags: dict[str, int] = {}
        self.scripts = 0
        self.external_refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title" and self.title is None and not self._svg_depth:
            self._in_title = True
            self.title = ""
        elif tag == "svg":
            self._svg_depth += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "th" and not a.get("scope"):
            self.th_without_scope += 1
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            value = a.get(name) or ""
            if re.match(r"(?i)(https?:)?//", value) and not (tag == "a" and name == "href"):
                self.external_refs.append(value)
        if tag == "link":
            self.external_refs.append(a.get("href") or "<link>")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "svg" and self._svg_depth:
            self._svg_depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def html_outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    parser.close()
    return parser


def html_title(html: str) -> str:
    return (html_outline(html).title or "").strip()


def heading_skips(levels: list[int]) -> list[str]:
    """A heading deeper than one level below the one before it."""
    problems, previous = [], 0
    for level in levels:
        if level > previous + 1:
            problems.append(f"heading level skipped: h{previous} → h{level}")
        previous = level
    return problems


def html_structure_problems(html: str, *, lang: str = "en-CA") -> list[str]:
    """Static checks axe does not make (or makes only as best practice)."""
    o = html_outline(html)
    problems = []
    if o.lang != lang:
        problems.append(f"<html lang> is {o.lang!r}, expected {lang!r}")
    if not (o.title or "").strip():
        problems.append("missing or empty <title>")
    if o.headings.count(1) != 1:
        problems.append(f"expected exactly one <h1>, found {o.headings.count(1)}")
    problems += heading_skips(o.headings)
    if o.th_without_scope:
        problems.append(f"{o.th_without_scope} <th> without scope")
    if o.captions != o.tables:
        problems.append(f"{o.tables} tables but {o.captions} captions")
    for landmark in ("header", "nav", "main", "footer"):
        if not o.tags.get(landmark):
            problems.append(f"no <{landmark}> landmark")
    if o.scripts:
        problems.append(f"{o.scripts} <script> elements (the report must not need JavaScript)")
    if o.external_refs:
        problems.append(f"external resources referenced: {o.external_refs[:5]}")
    if 'href="#main"' not in html:
        problems.append("no skip link to #main")
    return problems


# --------------------------------------------------------------------------- browser


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def axe_violations(page) -> list[str]:
    """axe-core WCAG 2.0/2.1 A and AA violations on an open Playwright page."""
    from axe_playwright_python.sync_playwright import Axe

    # resultTypes: only the violations get their node details (about a third faster)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    violations = results.response.get("violations", [])
    out = []
    for v in violations:
        targets = [n.get("target") for n in v.get("nodes", [])][:3]
        out.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} — {targets}")
    return out


def horizontal_overflow(page, width: int = 320) -> int:
    """How many CSS pixels the document is wider than ``width`` at that viewport width (0 = ok)."""
    page.set_viewport_size({"width": width, "height": 800})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    return max(0, int(scroll_width) - width)


# What a screen of a given width must show (issue 27): run in the page, returns problems as text.
_LAYOUT_CHECKS = """
(minFont) => {
  const problems = [];
  const visible = (el) => el && getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0;
  // 1. chart and map text at least minFont px as drawn
  for (const svg of document.querySelectorAll('svg[role="img"]')) {
    const vb = svg.viewBox.baseVal;
    if (!vb || !vb.width) continue;
    const scale = svg.getBoundingClientRect().width / vb.width;
    let smallest = Infinity;
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * scale);
    }
    if (smallest < minFont - 0.05) problems.push(`${svg.id || svg.getAttribute('aria-labelledby')}: text ${smallest.toFixed(1)} px`);
  }
  // 2. whatever is wider than its box scrolls inside a focusable, labelled region with a visible cue
  for (const box of document.querySelectorAll('.table-wrap, .chart-figure')) {
    if (box.scrollWidth <= box.clientWidth + 1) continue;
    const name = box.id || (box.querySelector('table, svg') || {}).id || box.className;
    const style = getComputedStyle(box);
    if (!['auto', 'scroll'].includes(style.overflowX)) problems.push(`${name}: clipped, does not scroll`);
    if (box.tabIndex !== 0) problems.push(`${name}: scrolls but is not focusable`);
    const label = box.getAttribute('aria-label') || (box.getAttribute('aria-labelledby') &&
      (document.getElementById(box.getAttribute('aria-labelledby')) || {}).textContent);
    if (!label || !label.trim()) problems.push(`${name}: scrolls but has no label`);
    const cue = box.querySelector('.scroll-cue') || (box.previousElementSibling &&
      box.previousElementSibling.classList.contains('scroll-cue') ? box.previousElementSibling : null);
    if (!visible(cue)) problems.push(`${name}: scrolls without a visible cue`);
  }
  // 3. the header block: every value beside its label, all values in one column
  const lefts = new Set();
  for (const row of document.querySelectorAll('.cover-facts > div, .bia-facts > div')) {
    const dt = row.querySelector('dt').getBoundingClientRect(), dd = row.querySelector('dd').getBoundingClientRect();
    if (Math.abs(dt.top - dd.top) > 4) problems.push(`header: "${row.textContent.trim().slice(0, 30)}" value not beside its label`);
    if (row.closest('.cover-facts')) lefts.add(Math.round(dd.left));
  }
  if (lefts.size > 1) problems.push(`header: values start at ${[...lefts].join(', ')} px`);
  // 4. the contents: no section's entry (with its sub-list) split between two columns
  for (const li of document.querySelectorAll('.toc > ol > li')) {
    if (li.getClientRects().length > 1) problems.push(`contents: "${li.querySelector('a').textContent}" split between columns`);
  }
  // 5. a file name breaks only after '/', '_' or '-', or before '.', never inside a word
  for (const code of document.querySelectorAll('code.file')) {
    const text = code.textContent, range = document.createRange();
    let top = null;
    let offset = 0;
    for (const node of [...code.childNodes].filter(n => n.nodeType === 3)) {
      for (let i = 0; i < node.length; i++, offset++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const r = range.getClientRects()[0];
        if (!r) continue;
        if (top !== null && r.top > top + 2) {
          const before = text[offset - 1], here = text[offset];
          if (!('/_-'.includes(before) || here === '.')) problems.push(`file name breaks inside a word: ${text.slice(0, offset)} / ${text.slice(offset)}`);
        }
        top = r.top;
      }
    }
  }
  return problems;
}
"""


def layout_problems(page, width: int, min_font: float = 12) -> list[str]:
    """At a viewport ``width`` px wide: chart text smaller than ``min_font`` px, a table or chart
    wider than its box that does not scroll in a focusable, labelled region with a visible cue,
    header values not beside their labels, a contents entry split between columns, a file name
    broken inside a word."""
    page.set_viewport_size({"width": width, "height": 800})
    return page.evaluate(_LAYOUT_CHECKS, min_font)
