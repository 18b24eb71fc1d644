"""Render the annual report and its two appendices (HTML and tagged PDF/UA-1) from
``key_metrics.json`` data.

Public interface::

    render_annual_report(metrics: dict, meta: dict, out_dir: Path, progress=None, layouts=None, head=None) -> list[Path]
    render_html(metrics, meta, output="html", kind="annual", specs=None, narrative=None) -> str

writes, for year Y, ``cx-annual-report-Y``, ``appendix-a-key-metrics-Y`` (charts, each with
its data table) and ``appendix-b-key-metrics-Y-text-only`` (the same tables, no images), each
as ``.html`` and ``.pdf``. Appendix A and B are built from one list of ``ChartSpec``
(``pipeline.report.chart_specs.key_metric_specs``), so their tables cannot differ.

``metrics`` has the shape of ``key_metrics.json`` (see docs / metric definitions) with the
marts' figures only the documents read (``pipeline.metrics.DOCUMENTS_ONLY``); any section may
be ``None``. ``meta`` carries ``demo`` (bool), ``generated_from`` (list of
input file names), ``sources`` (the same files as ``{"file", "read_as", "notes"}``: how each
was read, e.g. 'UTF-8', None for Parquet, and the loader's notes on it as one text or None;
optional), ``ignored`` (``{"file", "why"}`` of the files in the raw folder that are not
extracts; optional), ``cancelled_note`` (str | None), ``not_available`` (list of str),
``rejects`` (list of ``{"file", "reasons"}``), ``standards_illustrative`` (bool) and
``narrative_dir`` (Path | None: the analyst's Markdown and ``report.yaml``, see
``pipeline.report.narrative`` and ``pipeline.report.front_matter``).

The annual report is a City staff report (Summary … Attachments); its attachments are the two
appendices, linked by file name (the PDF links open the sibling PDF). When any narrative text
falls back to a default, all three documents are drafts ("DRAFT" in title, page 1, running head).

All outputs are deterministic: rendering the same input twice gives identical bytes.
The PDF has fixed metadata (no wall-clock dates unless ``SOURCE_DATE_EPOCH`` is set)
and a document identifier derived from its content (``pipeline.report.pdf``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import atomic_write
from ..paths import TEMPLATES_DIR
from .chart_specs import ChartSpec, chart_catalogue, draw_charts
from .context import DOCUMENTS, build_context
from .environment import ENV
from .pdf import Layouts, PdfJobs, layout_key
from .pdf_links import relative_file_links
from .vega_runtime import start_runtime

if TYPE_CHECKING:
    from .head_start import HeadStart

__all__ = ["DOCUMENTS", "render_annual_report", "render_html"]

Progress = Callable[[str, int, int], None]  # (file just finished, done, total)


def render_html(metrics: dict, meta: dict, output: str = "html", kind: str = "annual",
                specs: list[ChartSpec] | None = None, narrative: dict | None = None) -> str:
    """One document as a self-contained HTML string ('html' for screen, 'pdf' for WeasyPrint).

    ``kind`` is 'annual', 'appendix_a' or 'appendix_b'. ``specs`` (from ``key_metric_specs``)
    and ``narrative`` (from ``pipeline.report.narrative.render_report_text``) are computed when
    not given.
    """
    template = ENV.get_template(DOCUMENTS[kind][3])
    return template.render(**build_context(metrics, meta, output, kind, specs, narrative))


def _render_documents(metrics: dict, meta: dict, narrative: dict, progress: Progress | None,
                      layouts: Layouts, head: HeadStart | None) -> tuple[dict[str, str], dict[str, bytes]]:
    """The three documents' screen HTML and PDF bytes, by kind.

    A PDF whose layout key (``pipeline.report.pdf.layout_key``) matches the published set's is
    copied from it (``layouts``); the others are laid out in forked workers, forked before this
    process draws a chart. Each PDF starts as soon as its charts are drawn: Appendix B (text
    only) at once, then every chart is drawn while it is laid out, then Appendix A, the longest
    layout, takes the other worker and the annual report the first free one (drawing the
    annual report's two appendix charts first would put a third layout beside the charts on
    two cores and start Appendix A later). When a layout is sure (nothing published to reuse),
    the workers import WeasyPrint and vl-convert starts its runtime (in a thread) while this
    process fills the templates and imports Altair; ``head`` (``pipeline.report.head_start``)
    did all that while dbt built, and its workers are used.
    """
    year = int(metrics["year"])
    htmls: dict[str, str] = {}
    results: dict[str, Callable[[], bytes]] = {}
    pdfs: dict[str, bytes] = {}

    def lay_out(kind: str, html: str) -> None:
        name = DOCUMENTS[kind][0].format(year=year) + ".pdf"
        key = layout_key(html)
        reused = layouts.reusable(name, key)
        if reused is not None:
            results[kind] = lambda: reused
            return
        layouts.record(name, key, False)
        laid_out = jobs.submit(html)
        results[kind] = lambda: relative_file_links(laid_out(), TEMPLATES_DIR)  # the attachments

    warm = layouts.sure_to_lay_out([DOCUMENTS[kind][0].format(year=year) + ".pdf" for kind in DOCUMENTS])
    with contextlib.ExitStack() as stack:
        if head is not None:
            jobs, runtime = head.fork(), None  # forked already; head.__exit__ shuts them down
        else:
            jobs = stack.enter_context(PdfJobs(warm))
            jobs.start()
            runtime = start_runtime() if warm else None
        catalogue = chart_catalogue(metrics)
        plain = [spec for spec, _ in catalogue]  # no SVG yet: all Appendix B needs
        lay_out("appendix_b", render_html(metrics, meta, "pdf", "appendix_b", plain, narrative))
        htmls["appendix_b"] = render_html(metrics, meta, "html", "appendix_b", plain, narrative)
        specs = draw_charts(catalogue)  # every chart is drawn once, shared by all documents
        lay_out("appendix_a", render_html(metrics, meta, "pdf", "appendix_a", specs, narrative))
        lay_out("annual", render_html(metrics, meta, "pdf", "annual", specs, narrative))
        if runtime is not None:
            runtime.join()
        for kind in ("annual", "appendix_a"):
            htmls[kind] = render_html(metrics, meta, "html", kind, specs, narrative)
        for kind in DOCUMENTS:
            pdfs[kind] = results[kind]()
            if progress is not None:
                progress(DOCUMENTS[kind][0].format(year=year) + ".pdf", len(pdfs), len(DOCUMENTS))
    return htmls, pdfs


def render_annual_report(metrics: dict, meta: dict, out_dir: Path, progress: Progress | None = None,
                         layouts: Layouts | None = None, head: HeadStart | None = None) -> list[Path]:
    """Write the annual report and Appendix A and B (``.html`` and ``.pdf`` each) to ``out_dir``.

    Returns the six paths: annual HTML, annual PDF, Appendix A HTML, PDF, Appendix B HTML, PDF.
    ``layouts`` (``Layouts.of(published_folder)``) offers the published PDFs to reuse and
    records each PDF's layout key and whether it was reused; by default every PDF is laid out.
    ``head``: the PDF workers and warm-up started while dbt built (``pipeline.report.head_start``).
    Raises ``pipeline.report.narrative.NarrativeError`` or
    ``pipeline.report.front_matter.FrontMatterError`` (file and line) for a bad narrative
    file, before anything is written.
    """
    from .narrative import render_report_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    year = int(metrics["year"])
    if head is not None:
        head.ready()  # its thread has finished importing before the narrative's filling process is forked
    narrative = render_report_text(metrics, meta.get("narrative_dir"))
    htmls, pdfs = _render_documents(metrics, meta, narrative, progress, layouts or Layouts(), head)
    paths: list[Path] = []
    for kind in DOCUMENTS:
        stem = DOCUMENTS[kind][0].format(year=year)
        html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
        atomic_write(html_path, htmls[kind].encode("utf-8"))
        atomic_write(pdf_path, pdfs[kind])
        paths.append(html_path)
        paths.append(pdf_path)
    return paths
