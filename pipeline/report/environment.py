"""The one Jinja environment factory: the report templates (``ENV``, shared by every document),
and a sandboxed variant for the analyst's narrative. Both carry the same filters, so a figure reads
the same everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup, escape

from ..paths import TEMPLATES_DIR
from .formatting import (
    MINUS,
    NA,
    NOT_AVAILABLE,
    fmt_change,
    fmt_count,
    fmt_decimal,
    fmt_duration_words,
    fmt_hms,
    fmt_long_date,
    fmt_month,
    fmt_pct,
    fmt_short_date,
    fmt_signed_pct,
    fmt_thousands,
)


def file_breaks(name: str) -> Markup:
    """A file name with line-break opportunities after each '/', '_' and '-' and before each
    '.' (``<wbr>``), so a narrow screen breaks '2024/service_requests_2024.parquet' between its
    parts, never inside a word."""
    parts = re.split(r"(?<=[/_-])|(?=\.)", str(name))
    return Markup("<wbr>").join(escape(part) for part in parts if part)


FILTERS = {
    "thousands": fmt_thousands,
    "pct": fmt_pct,
    "hms": fmt_hms,
    "signed_pct": fmt_signed_pct,
    "decimal": fmt_decimal,
    "month": fmt_month,
    "long_date": fmt_long_date,
    "short_date": fmt_short_date,
    "duration_words": fmt_duration_words,
    "change": fmt_change,  # a change in words: 'decreased by 5% to 463,000, compared to 487,000 in 2023'
    "count": fmt_count,    # a count or a median of counts, as a whole number
    "file_breaks": file_breaks,
}
GLOBALS = {"NA": NA, "NOT_AVAILABLE": NOT_AVAILABLE, "MINUS": MINUS}
OPTIONS = {"undefined": jinja2.StrictUndefined, "trim_blocks": True, "lstrip_blocks": True,
           "keep_trailing_newline": True}


def make_environment() -> jinja2.Environment:
    """The report templates (report_templates/), HTML-escaped, strict about undefined names."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, **OPTIONS)
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


def make_sandboxed_environment() -> SandboxedEnvironment:
    """For the analyst's narrative: no file access, no unsafe attributes, no method that changes
    a list or a mapping (the figures are read, never changed), the sandbox's own bounded
    ``range``. Not escaped: the result is Markdown, sanitised after conversion. (Time and
    memory are bounded where templates are filled: ``narrative.fill_templates``.)"""
    env = ImmutableSandboxedEnvironment(autoescape=False, **OPTIONS)
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)  # only the project's names: the sandbox keeps its safe range
    return env


# The report templates' one shared environment: every document (annual report, appendices, BIA
# reports) renders through it, so a template is compiled once (before the PDF workers fork).
ENV = make_environment()


def use_template_cache(folder: Path | None) -> None:
    """Keep the compiled templates in ``folder`` (Jinja's own bytecode cache, keyed by each
    template's source: a changed template is compiled again), so a run does not compile
    every template anew; None: compile in this process only."""
    if folder is None:
        ENV.bytecode_cache = None
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    ENV.bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder))
