"""Tagged PDF/UA-1 from print HTML (WeasyPrint), reproducibly, optionally in forked workers.

Public interface::

    html_to_pdf(html) -> bytes          # one PDF, in this process
    source_date() -> str | None         # the PDF metadata date (SOURCE_DATE_EPOCH) or None
    pdf_worker_init()                   # initializer of a pool whose workers call html_to_pdf
    PdfJobs()                           # context manager: submit(html) -> result() -> bytes

The PDF has fixed metadata (no wall-clock dates unless ``SOURCE_DATE_EPOCH`` is set) and a
document identifier derived from its HTML.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from ..outputs import die_with_parent
from ..paths import TEMPLATES_DIR
from .pdf_tags import add_table_semantics

# PDFs are rendered in parallel worker processes when there is more than one CPU.
PDF_WORKERS = max(1, min(2, os.cpu_count() or 1))


def source_date() -> str | None:
    """W3C date for the PDF metadata from SOURCE_DATE_EPOCH, or None (no dates: reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    stamp = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def html_to_pdf(html: str) -> bytes:
    """Tagged PDF/UA-1 bytes from the print HTML, reproducibly. WeasyPrint writes the
    stylesheets' fonts to temporary files (in TMPDIR: the run's OUTPUT/.staging/tmp-<pid>); an
    error writing one, which names no file (a full disk), is given that folder as its path."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR / "annual_report.html"))
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    try:
        pdf = document.write_pdf(
            pdf_variant="pdf/ua-1",
            pdf_identifier=identifier,
            font_config=font_config,
            custom_metadata=False,
        )
    except OSError as error:
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror, f"a temporary file in {tempfile.gettempdir()}") from error
    # /IDTree and /Scope, which WeasyPrint 70 leaves out, from the HTML tree it parsed
    return add_table_semantics(pdf, document.etree_element)


def pdf_worker_init() -> None:
    """Each PDF worker imports WeasyPrint (about 0.5 s) as it starts, unless it was forked from
    a process that had imported it. A failure is left to the task that needs it to report
    (a failing initializer would break the whole pool)."""
    die_with_parent()  # a worker never outlives a killed run
    with contextlib.suppress(Exception):
        import weasyprint  # noqa: F401


def pdf_pool() -> ProcessPoolExecutor | None:
    """A pool of forked workers for WeasyPrint, or None to render in this process.

    Fork (not spawn): the workers need nothing but ``html_to_pdf`` and must not re-run the
    caller's ``__main__`` (``python -m pipeline`` has no main guard). The workers are forked at
    the first ``submit``; they never draw a chart: vl-convert's runtime threads do not survive a
    fork, so a worker forked from a process that had drawn one would wait for them forever.
    """
    import multiprocessing

    if PDF_WORKERS < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(max_workers=PDF_WORKERS, mp_context=multiprocessing.get_context("fork"),
                               initializer=pdf_worker_init)


class PdfJobs:
    """PDFs laid out in forked workers (``pdf_pool``) as soon as they are submitted, or, with
    one CPU, in this process when their result is asked for.

    ``submit(html)`` returns a function giving the PDF bytes. Leaving the ``with`` block
    cancels what is still queued.
    """

    def __init__(self) -> None:
        self._pool = pdf_pool()

    def __enter__(self) -> PdfJobs:
        if self._pool is not None:
            try:
                import weasyprint  # noqa: F401  (once, here: the forked workers inherit it)
            except BaseException:
                self._pool.shutdown()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def submit(self, html: str) -> Callable[[], bytes]:
        if self._pool is None:
            return functools.partial(html_to_pdf, html)
        return self._pool.submit(html_to_pdf, html).result
