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

import html
import marshal
import os
import pickle
import re
import resource
import select
import signal
import struct
import time
import traceback
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
from ..outputs import die_with_parent
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


# Compiled narrative templates (marshalled code), by (source, file name, path): compiling is
# most of the cost of filling one in, and a process that renders several reports (the test
# suite, a preview) fills in the same files many times. A template is compiled in the bounded
# child process, never here (compiling folds constant expressions: '"x" * 10**10' would be
# computed then), which sends the code back to be kept.
_COMPILED: dict[tuple[str, str, str], bytes] = {}
COMPILED_KEPT = 256


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


def _where(error: BaseException, path: Path) -> str:
    line = _error_line(error, str(path))
    return f"{_display(path)}, line {line}" if line else _display(path)


def _compile(source: str, path: Path) -> CodeType:
    """A narrative file's template, compiled (NarrativeError naming the file and line)."""
    try:
        return _environment().compile(source, name=path.name, filename=str(path))
    except jinja2.TemplateError as error:
        message = error.message if getattr(error, "message", None) else str(error)
        raise NarrativeError(f"{_where(error, path)}: {message}") from error
    except RecursionError as error:
        raise NarrativeError(f"{_display(path)}: its template is nested too deeply to read") from error


def _render(code: CodeType, context: dict, path: Path, source: str) -> str:
    """Fill in a compiled template (NarrativeError naming the file and line; an unknown
    placeholder is named with the closest names that exist)."""
    env = _environment()
    try:
        template = env.template_class.from_code(env, code, env.make_globals(None))
        return template.render(context)
    except jinja2.TemplateError as error:
        message = error.message if getattr(error, "message", None) else str(error)
        if isinstance(error, jinja2.UndefinedError):
            message = _unknown_placeholder(message, source, _error_line(error, str(path)), context) or message
        raise NarrativeError(f"{_where(error, path)}: {message}") from error
    except RecursionError as error:
        raise NarrativeError(f"{_where(error, path)}: a macro calls itself without end") from error
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as error:
        raise NarrativeError(f"{_where(error, path)}: {type(error).__name__}: {error}") from error


# --------------------------------------------------------------------------- bounded filling
#
# The sandbox limits what a template reaches (no attribute starting with '_', no method that
# changes the figures, no file, a range of at most 100,000 items), not how long it runs or how
# much it builds: nested loops, or a string doubled in a loop, are legal templates. So the
# templates are filled in a child process (a fork: nothing to import or pickle), which dies
# with this one, may use FILL_MEMORY bytes more than this process has, must finish each file
# within FILL_SECONDS and give at most FILL_TEXT characters per file; over a bound it is
# stopped and the run (or a preview) goes on to report the file. A narrative fills in within
# milliseconds.
FILL_SECONDS = 2.0
FILL_MEMORY = 256 << 20
FILL_TEXT = 1 << 20


def render_template(source: str, context: dict, path: Path) -> str:
    """Fill in the placeholders of one narrative file (NarrativeError on any template error,
    or when it goes beyond the bounds above)."""
    return fill_templates([(source, path)], context)[0]


def fill_templates(jobs: list[tuple[str, Path]], context: dict) -> list[str]:
    """Fill in each ``(source, path)`` template with ``context``, in order, in one bounded child
    process (see above). NarrativeError names the file (and line) of the first that fails."""
    if not jobs:
        return []
    keys = [(source, path.name, str(path)) for source, path in jobs]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: fill in, report on the pipe, exit without cleaning up the parent's state
        os.close(read)
        try:
            _child(jobs, [_COMPILED.get(key) for key in keys], context, write)
        finally:
            os._exit(0)
    os.close(write)
    try:
        return _collect(pid, read, keys)
    finally:
        os.close(read)
        _reap(pid)


def _child(jobs: list[tuple[str, Path]], compiled: list[bytes | None], context: dict, out: int) -> None:
    die_with_parent()
    _limit_memory(FILL_MEMORY)
    for i, ((source, path), code) in enumerate(zip(jobs, compiled, strict=True)):
        _send(out, ("start", i))
        try:
            if code is None:
                code = marshal.dumps(_compile(source, path))
                _send(out, ("compiled", code))
            text = _render(marshal.loads(code), context, path, source)
        except NarrativeError as error:
            _send(out, ("error", str(error)))
            return
        except MemoryError:
            _send(out, ("memory", i))
            return
        except BaseException:  # a bug: its traceback goes to the parent, which raises it
            _send(out, ("bug", traceback.format_exc()))
            return
        if len(text) > FILL_TEXT:
            _send(out, ("long", len(text)))
            return
        _send(out, ("text", text))


def _limit_memory(extra: int) -> None:
    """Let this process map at most ``extra`` bytes more than it has now (RLIMIT_AS)."""
    try:
        size = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + extra, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (OSError, ValueError):  # not Linux, or a hard limit below: the time bound still holds
        pass


def _send(fd: int, frame: tuple) -> None:
    data = pickle.dumps(frame)
    data = struct.pack("!Q", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _collect(pid: int, fd: int, keys: list[tuple[str, str, str]]) -> list[str]:
    """The child's texts (keeping the templates it compiled), or NarrativeError: its own, or
    for a file beyond a bound."""
    texts: list[str] = []
    reader = _Frames(fd)
    current = 0
    deadline = time.monotonic() + FILL_SECONDS
    while len(texts) < len(keys):
        frame = reader.next(deadline)
        where = _display(Path(keys[current][2]))
        if frame is None:
            os.kill(pid, signal.SIGKILL)
            raise NarrativeError(
                f"{where}: filling in its placeholders took more than {FILL_SECONDS:g} s, so it was stopped "
                "(a loop that runs too long?). A narrative file fills in within a fraction of a second: "
                "simplify its loops and run again.")
        kind, value = frame
        if kind == "start":
            current, deadline = value, time.monotonic() + FILL_SECONDS
        elif kind == "compiled":
            if len(_COMPILED) >= COMPILED_KEPT:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[keys[current]] = value
        elif kind == "text":
            texts.append(value)
        elif kind == "error":
            raise NarrativeError(value)
        elif kind == "memory":
            raise NarrativeError(
                f"{where}: filling in its placeholders needed more than {FILL_MEMORY >> 20} MB of memory, so it "
                "was stopped (a string or list built too large?). Simplify the template and run again.")
        elif kind == "long":
            raise NarrativeError(
                f"{where}: its placeholders fill in to {value:,} characters, more than the {FILL_TEXT:,} a "
                "narrative file may hold, so it was stopped. Simplify the template and run again.")
        elif kind == "bug":
            raise RuntimeError(f"filling in {where} failed in the child process:\n{value}")
        elif kind == "gone":
            raise NarrativeError(f"{where}: the process filling in its placeholders ended without a result "
                                 f"({value}). Simplify the template and run again.")
    return texts


class _Frames:
    """Length-prefixed frames from the child's pipe, each awaited until a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self, deadline: float) -> tuple | None:
        """The next frame; None at the deadline; ("gone", why) when the child closed the pipe."""
        while True:
            if len(self.buffer) >= 8:
                size = struct.unpack("!Q", self.buffer[:8])[0]
                if len(self.buffer) >= 8 + size:
                    frame, self.buffer = pickle.loads(self.buffer[8:8 + size]), self.buffer[8 + size:]
                    return frame
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return ("gone", "its output ended early")
            self.buffer += chunk


def _reap(pid: int) -> None:
    """Wait for the child (it has ended, or been killed: no zombie, no orphan)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


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

    Every template (the sections, the front matter's text fields, financial_impact) is filled
    in by one bounded child process (``fill_templates``)."""
    missing = missing_items(narrative_dir)
    defaults = default_parts(narrative_dir)
    context = narrative_context(metrics)
    jobs = [narrative_source(section.key, narrative_dir) for section in NARRATIVE_SECTIONS]
    values, missing_keys, path = read_front_matter(narrative_dir)
    for key in PLACEHOLDER_FIELDS:  # names such as {{ settings.service }} in the form's text
        values[key] = _gather(values.get(key), DEFAULT_FRONT_MATTER if key in missing_keys else path, jobs)
    impact = values.get("financial_impact")
    impact_slot = _gather(impact, DEFAULT_FRONT_MATTER if "financial_impact" in missing_keys else path,
                          jobs, always=True) if impact else None
    filled = fill_templates(jobs, context)
    sections = _sections(filled[:len(NARRATIVE_SECTIONS)], jobs)
    for key in PLACEHOLDER_FIELDS:
        values[key] = _put(values[key], filled)
    impact_html = markdown_to_html(_put(impact_slot, filled), base_level=3) if impact else Markup("")
    front = render_front_matter(values, impact_html)
    return {"sections": sections, "front": front, "missing": missing, "draft": bool(missing),
            "defaults": defaults, "draft_sentence": draft_sentence(defaults)}


# The front matter's text fields whose placeholders are filled in (financial_impact is Markdown,
# rendered below like the narrative files).
PLACEHOLDER_FIELDS = ("to", "from", "wards", "purpose", "recommendations", "cfo_review", "decision_history",
                      "contact", "signature")


@dataclass(frozen=True)
class _Slot:
    """Where a filled-in template goes back: its index in the jobs."""

    index: int


def _gather(value: Any, source: Path, jobs: list[tuple[str, Path]], always: bool = False) -> Any:
    """``value`` (text, or lists and mappings of text) with each text holding a placeholder
    (every text, with ``always``) replaced by a _Slot, its template appended to ``jobs``."""
    if isinstance(value, str):
        if not always and "{" not in value:
            return value
        jobs.append((value, source))
        return _Slot(len(jobs) - 1)
    if isinstance(value, list):
        return [_gather(v, source, jobs, always) for v in value]
    if isinstance(value, dict):
        return {k: _gather(v, source, jobs, always) for k, v in value.items()}
    return value


def _put(value: Any, filled: list[str]) -> Any:
    """``value`` with each _Slot replaced by its filled-in text."""
    if isinstance(value, _Slot):
        return filled[value.index]
    if isinstance(value, list):
        return [_put(v, filled) for v in value]
    if isinstance(value, dict):
        return {k: _put(v, filled) for k, v in value.items()}
    return value


def _sections(filled: list[str], sources: list[tuple[str, Path]]) -> dict[str, dict[str, Any]]:
    base_level = 4  # below the summary's or the comments subsection's h3
    return {section.key: {"heading": section.heading, "placement": section.placement,
                          "html": markdown_to_html(text, base_level), "default": path.parent == DEFAULTS_DIR}
            for section, text, (_, path) in zip(NARRATIVE_SECTIONS, filled, sources, strict=False)}


def render_narrative(metrics: dict, narrative_dir: Path | None) -> dict[str, dict[str, Any]]:
    """Every narrative section as ``{key: {"heading", "placement", "html", "default"}}``."""
    _check_retired(narrative_dir)
    sources = [narrative_source(section.key, narrative_dir) for section in NARRATIVE_SECTIONS]
    return _sections(fill_templates(sources, narrative_context(metrics)), sources)
