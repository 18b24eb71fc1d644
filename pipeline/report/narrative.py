"""The analyst's narrative: Markdown files with figures as Jinja placeholders.

Each year's narrative lives in ``<raw>/narrative/<year>/`` (``meta["narrative_dir"]``), one
Markdown file per section (``NARRATIVE_SECTIONS``). A file the analyst has not written falls
back to the neutral default shipped in ``report_templates/narrative/``.

A file is first rendered as a Jinja template whose context is the ``key_metrics.json`` dict
(plus ``prior_year``) with the report's filters, so ``{{ service_requests.total | thousands }}``
prints the same string the tables print. Undefined names fail loudly: ``NarrativeError`` names
the file and the line. The template runs in Jinja's sandbox.

Then Markdown becomes HTML. Analysts write Markdown, not HTML: raw HTML in a file is shown as
text (never passed through), the output keeps only a small allow-list of elements, links keep
only http(s)/mailto/#fragment targets, and images become their alt text. Headings are moved
below the heading of the section that holds them, without skipped levels.

The staff report's front matter (date, to, from, recommendations, …) is ``report.yaml`` in the
same folder (``pipeline.report.front_matter``). ``render_report_text`` gives both, with what
fell back to a default: any default makes the documents a draft, and ``missing_items`` lists
those files and fields before anything is rendered (``report --final`` refuses a draft).
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
import markdown
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from ..errors import CxError
from ..paths import TEMPLATES_DIR
from .environment import make_sandboxed_environment
from .front_matter import DEFAULT_PATH as DEFAULT_FRONT_MATTER
from .front_matter import FIELD_NAMES, read_front_matter, render_front_matter

DEFAULTS_DIR = TEMPLATES_DIR / "narrative"


@dataclass(frozen=True)
class NarrativeSection:
    key: str          # file stem: <key>.md
    heading: str      # the heading the report gives the section
    placement: str    # where the annual report puts it


NARRATIVE_SECTIONS = (
    NarrativeSection("highlights", "Highlights of the year", "summary"),
    NarrativeSection("partnerships", "Partnerships and Enhancements", "comments"),
    NarrativeSection("ongoing_improvements", "Ongoing Improvements", "comments"),
)
# files of an earlier layout: refused with where their text goes now
RETIRED = {
    "recommendations.md": "the recommendations are the numbered list 'recommendations:' in "
                          "report.yaml (one sentence per item): move them there and delete this file",
}


class NarrativeError(CxError):
    """A narrative file could not be rendered; the message names the file and line."""


class DraftError(CxError):
    """``--final`` was asked for, but some narrative text would fall back to a default."""


_ENV: SandboxedEnvironment | None = None


def _display(path: Path) -> str:
    """A short, stable name for messages: the last four path parts (raw/narrative/2024/x.md)."""
    return "/".join(path.parts[-4:])


def _error_line(error: BaseException, filename: str) -> int | None:
    lineno = getattr(error, "lineno", None)
    if isinstance(error, jinja2.TemplateSyntaxError) and lineno:
        return lineno
    tb = error.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line or lineno


def _environment() -> SandboxedEnvironment:
    global _ENV
    if _ENV is None:
        _ENV = make_sandboxed_environment()
    return _ENV


@functools.lru_cache(maxsize=256)
def _compiled(source: str, name: str, filename: str) -> CodeType:
    """A narrative file's template, compiled once per process: compiling is most of the cost of
    filling one in, and a process that renders several reports (the test suite) fills in the
    same files many times. A file that does not compile raises each time."""
    return _environment().compile(source, name=name, filename=filename)


def _closest(name: str, names: list[str]) -> list[str]:
    """The names like ``name``: those that start with it or contain it, then difflib's close
    matches; at most three."""
    import difflib

    found = [n for n in names if n.startswith(name) or name in n]
    found += [n for n in difflib.get_close_matches(name, names, n=3, cutoff=0.5) if n not in found]
    return found[:3]


def _unknown_placeholder(message: str, source: str, line: int | None, context: dict) -> str | None:
    """An unknown placeholder, said with the names that exist near it: "unknown placeholder
    'phone.asa' (the closest: phone.asa_seconds)". None when ``message`` is another error."""
    undefined = re.fullmatch(r"'(\w+)' is undefined", message)
    attribute = re.fullmatch(r"'.*' has no attribute '(\w+)'", message)
    if undefined:
        parent, name, names = "", undefined.group(1), sorted(k for k in context if not k.startswith("_"))
    elif attribute:
        name = attribute.group(1)
        lines = source.splitlines()
        text = lines[line - 1] if line and line <= len(lines) else source
        pattern = r"([A-Za-z_][\w.\[\]]*)\." + re.escape(name) + r"\b"
        found = re.search(pattern, text) or re.search(pattern, source)
        if not found:
            return None
        parent = found.group(1)
        value: Any = context
        for part in re.findall(r"\w+", parent):  # 'service_requests.top_types[0]'
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = None
        if not isinstance(value, dict):
            return None
        names = sorted(value)
    else:
        return None
    prefix = f"{parent}." if parent else ""
    close = _closest(name, names)
    if close:
        hint = "the closest: " + ", ".join(prefix + n for n in close)
    else:
        hint = "the names there are: " + ", ".join(prefix + n for n in names)
    return f"unknown placeholder '{prefix}{name}' ({hint})"


def render_template(source: str, context: dict, path: Path) -> str:
    """Fill in the placeholders of one narrative file (NarrativeError on any template error; an
    unknown placeholder is named with the closest names that exist)."""
    env = _environment()
    filename = str(path)
    try:
        code = _compiled(source, path.name, filename)
        template = env.template_class.from_code(env, code, env.make_globals(None))
        return template.render(context)
    except jinja2.TemplateError as error:
        line = _error_line(error, filename)
        where = f"{_display(path)}, line {line}" if line else _display(path)
        message = error.message if getattr(error, "message", None) else str(error)
        if isinstance(error, jinja2.UndefinedError):
            message = _unknown_placeholder(message, source, line, context) or message
        raise NarrativeError(f"{where}: {message}") from error
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as error:
        line = _error_line(error, filename)
        where = f"{_display(path)}, line {line}" if line else _display(path)
        raise NarrativeError(f"{where}: {type(error).__name__}: {error}") from error


# --------------------------------------------------------------------------- Markdown → HTML

_ALLOWED = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}
_VOID = {"br", "hr"}
_SAFE_HREF = re.compile(r"(?i)^(https?://|mailto:|#)[^\s\"'<>`]*$")


class _Sanitiser(HTMLParser):
    """Rebuild HTML keeping only allowed elements and attributes; shift heading levels."""

    def __init__(self, base_level: int) -> None:
        super().__init__(convert_charrefs=True)
        self.base_level = base_level
        self.out: list[str] = []
        self.prev_level = base_level - 1
        self.stack: list[str] = []
        self.skip_depth = 0

    def _heading(self, tag: str) -> str:
        level = min(6, self.base_level + int(tag[1]) - 1, self.prev_level + 1)
        self.prev_level = level
        return f"h{level}"

    def handle_starttag(self, tag, attrs):
        if self.skip_depth or tag in ("script", "style"):
            self.skip_depth += tag in ("script", "style")
            return
        if tag == "img":
            alt = dict(attrs).get("alt") or ""
            self.out.append(html.escape(alt))
            return
        if tag not in _ALLOWED:
            self.stack.append("")
            return
        out_tag = self._heading(tag) if re.fullmatch(r"h[1-6]", tag) else tag
        attr = ""
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if _SAFE_HREF.match(href):
                attr = f' href="{html.escape(href, quote=True)}"'
        elif tag in ("th", "td"):
            align = dict(attrs).get("style") or ""
            if "right" in align:
                attr = ' class="num"'
            if tag == "th":
                attr += ' scope="col"'
        self.out.append(f"<{out_tag}{attr}>")
        if tag not in _VOID:
            self.stack.append(out_tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and tag in _ALLOWED and tag != "img" and not self.skip_depth:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.skip_depth:
            self.skip_depth -= tag in ("script", "style")
            return
        if tag in _VOID or tag == "img" or not self.stack:
            return
        out_tag = self.stack.pop()
        if out_tag:
            self.out.append(f"</{out_tag}>")

    def handle_data(self, data):
        if not self.skip_depth:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        while self.stack:
            tag = self.stack.pop()
            if tag:
                self.out.append(f"</{tag}>")
        return "".join(self.out)


def markdown_to_html(text: str, base_level: int = 3) -> Markup:
    """Markdown → safe HTML: raw HTML shown as text, allow-listed elements only."""
    md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    # Raw HTML blocks and inline tags are not recognised: '<script>' stays text and is escaped.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    body = md.convert(text)
    sanitiser = _Sanitiser(base_level)
    sanitiser.feed(body)
    sanitiser.close()
    return Markup(sanitiser.result())


# --------------------------------------------------------------------------- public interface


def narrative_source(key: str, narrative_dir: Path | None) -> tuple[str, Path]:
    """(text, path) of a section: the analyst's file if it exists, else the shipped default."""
    if narrative_dir is not None:
        path = Path(narrative_dir) / f"{key}.md"
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8-sig"), path
            except UnicodeDecodeError as error:
                raise NarrativeError(f"{_display(path)}: not UTF-8 text ({error.reason})") from error
    path = DEFAULTS_DIR / f"{key}.md"
    return path.read_text(encoding="utf-8"), path


def narrative_context(metrics: dict) -> dict[str, Any]:
    context = dict(metrics)
    context["prior_year"] = int(metrics["year"]) - 1
    return context


def _check_retired(narrative_dir: Path | None) -> None:
    if narrative_dir is None:
        return
    for name, where in RETIRED.items():
        path = Path(narrative_dir) / name
        if path.is_file():
            raise NarrativeError(f"{_display(path)}: {where}.")


def missing_items(narrative_dir: Path | None) -> list[dict[str, Any]]:
    """What falls back to a default, in document order: ``{"path", "what"}`` per file (the
    front matter's missing fields named). Empty when the narrative is complete (final).
    Validates ``report.yaml`` (FrontMatterError) and refuses retired files (NarrativeError)."""
    _check_retired(narrative_dir)
    base = Path(narrative_dir) if narrative_dir is not None else Path("raw/narrative/<year>")
    items: list[dict[str, Any]] = []
    _values, missing, path = read_front_matter(narrative_dir)
    if missing:
        what = "file missing" if narrative_dir is None or not path.is_file() else "keys missing or empty"
        items.append({"path": path, "what": f"{what}: {', '.join(missing)}"})
    for section in NARRATIVE_SECTIONS:
        md = base / f"{section.key}.md"
        if narrative_dir is None or not md.is_file():
            items.append({"path": md, "what": f"file missing: {section.heading}"})
    return items


# Where each front-matter key and narrative section shows in the annual report, in document
# order: a draft's first page lists the parts that use default text in this order.
DOCUMENT_ORDER = ("date", "to", "from", "wards", "purpose", "highlights", "recommendations",
                  "financial_impact", "cfo_review", "decision_history", "partnerships",
                  "ongoing_improvements", "contact", "signature")


def default_parts(narrative_dir: Path | None) -> list[str]:
    """The parts of the annual report that use default text, by the names the document gives
    them, in document order: ['Date', …, 'Partnerships and Enhancements', 'Contact']."""
    _values, missing, _path = read_front_matter(narrative_dir)
    names = {key: FIELD_NAMES[key] for key in missing}
    for section in NARRATIVE_SECTIONS:
        if narrative_dir is None or not (Path(narrative_dir) / f"{section.key}.md").is_file():
            names[section.key] = section.heading
    return [names[key] for key in DOCUMENT_ORDER if key in names]


def draft_sentence(parts: list[str]) -> str:
    """What a draft's first page says about itself: 'Partnerships and Enhancements, Contact and
    Signature still use default text.' ('' when nothing does)."""
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    listed = listed[0].upper() + listed[1:]
    return f"{listed} still use{'s' if len(parts) == 1 else ''} default text."


def render_report_text(metrics: dict, narrative_dir: Path | None) -> dict[str, Any]:
    """The analyst's text for the year's documents::

        {"sections": render_narrative(...), "front": the front matter (template-ready),
         "missing": missing_items(...), "draft": bool,
         "defaults": default_parts(...), "draft_sentence": draft_sentence(defaults)}
    """
    missing = missing_items(narrative_dir)
    defaults = default_parts(narrative_dir)
    sections = render_narrative(metrics, narrative_dir)
    values, missing_keys, path = read_front_matter(narrative_dir)
    context = narrative_context(metrics)
    for key in PLACEHOLDER_FIELDS:  # names such as {{ settings.service }} in the form's text
        source = DEFAULT_FRONT_MATTER if key in missing_keys else path
        values[key] = _fill(values.get(key), context, source)
    impact = values.get("financial_impact")
    source = DEFAULT_FRONT_MATTER if "financial_impact" in missing_keys else path  # for an error
    impact_html = (markdown_to_html(render_template(impact, narrative_context(metrics), source), base_level=3)
                   if impact else Markup(""))
    front = render_front_matter(values, impact_html)
    return {"sections": sections, "front": front, "missing": missing, "draft": bool(missing),
            "defaults": defaults, "draft_sentence": draft_sentence(defaults)}


# The front matter's text fields whose placeholders are filled in (financial_impact is Markdown,
# rendered below like the narrative files).
PLACEHOLDER_FIELDS = ("to", "from", "wards", "purpose", "recommendations", "cfo_review", "decision_history",
                      "contact", "signature")


def _fill(value: Any, context: dict, source: Path) -> Any:
    """``value`` (text, or lists and mappings of text) with its placeholders filled in."""
    if isinstance(value, str):
        return render_template(value, context, source) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, context, source) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, context, source) for k, v in value.items()}
    return value


def render_narrative(metrics: dict, narrative_dir: Path | None) -> dict[str, dict[str, Any]]:
    """Every narrative section as ``{key: {"heading", "placement", "html", "default"}}``."""
    _check_retired(narrative_dir)
    context = narrative_context(metrics)
    out: dict[str, dict[str, Any]] = {}
    for section in NARRATIVE_SECTIONS:
        text, path = narrative_source(section.key, narrative_dir)
        filled = render_template(text, context, path)
        base_level = 4  # below the summary's or the comments subsection's h3
        out[section.key] = {
            "heading": section.heading,
            "placement": section.placement,
            "html": markdown_to_html(filled, base_level),
            "default": path.parent == DEFAULTS_DIR,
        }
    return out
