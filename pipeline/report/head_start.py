"""A head start for rendering: what the documents need that does not depend on the figures,
done while ``dbt build`` runs in its child process (this process only waits for dbt then, and
one of the two cores is mostly idle: dbt's own Python is single-threaded).

Public interface::

    with HeadStart(warm, templates_cache) as head:   # before the build
        head.fork()                                  # the PDF workers, before dbt starts
        head.warm_up()                               # once dbt runs: a thread warms the renderer up
        ...                                          # dbt build, key metrics
        render_annual_report(..., head=head)         # head.ready(), then lays out in head.fork()'s workers

``fork`` forks the PDF workers (``pipeline.report.pdf.PdfJobs``: with ``warm``, some PDF will
surely be laid out, and they import WeasyPrint and rehearse a layout as they start) while this
process has no other thread. ``warm_up`` starts one thread that imports the renderer (Altair,
the chart and template modules), prepares the ward map's shapes (shapely), compiles the
documents' templates (through the run's template cache) and, with ``warm``, starts
vl-convert's runtime, which must come after every fork of a PDF worker
(``pipeline.report.pdf.pdf_pool``). Call it once dbt's process has started: a thread
importing modules holds the GIL for long stretches, and the reads and queries that come
before dbt's start (``pipeline.transform.fingerprints``) would wait for it each time they
give the GIL up. The narrative's filling process, a fork that runs Python, is
forked only after the thread has ended (``ready``): a module the thread was importing at a
fork would stay locked in the child.

Nothing here reads the warehouse or a figure: the documents are made from the marts of this
build, after it succeeded. Leaving the ``with`` block (a failed build) waits for the thread
and shuts the workers down; nothing is written.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from .environment import ENV, use_template_cache
from .pdf import PdfJobs

# the documents' templates and those they extend, include or import, compiled ahead
TEMPLATES = ("annual_report.html", "key_metrics.html", "report_base.html", "base.html", "macros.html")


class HeadStart:
    """The PDF workers and a warm-up thread, started before the build (see the module doc)."""

    def __init__(self, warm: bool, templates_cache: Path | None = None) -> None:
        self.warm = warm
        self.templates_cache = templates_cache
        self.jobs: PdfJobs | None = None  # the workers, once forked
        self.runtime_started = False  # vl-convert's runtime: started by the thread (``warm``)
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HeadStart:
        return self

    def fork(self) -> PdfJobs:
        """Fork the PDF workers (once; before ``warm_up``: see the module doc); return them.
        Their first layout is rehearsed too: dbt leaves the time."""
        if self.jobs is None:
            self.jobs = PdfJobs(self.warm, rehearse=True)
            self.jobs.start()
        return self.jobs

    def warm_up(self) -> None:
        """Start the warm-up thread (once; the workers are forked first if they were not)."""
        if self._thread is not None:
            return
        jobs = self.fork()
        if self.templates_cache is not None:
            use_template_cache(self.templates_cache)
        self._thread = threading.Thread(target=self._warm_up, args=(jobs.forked,), name="render head start")
        self._thread.start()

    def _warm_up(self, forked: bool) -> None:
        try:
            from . import charts, context, narrative  # noqa: F401 - the renderer's imports (Altair, Markdown…)

            charts.ward_geometry()  # the map's shapes (shapely): no figure needed
            for name in TEMPLATES:
                ENV.get_template(name)
            if self.warm:
                if not forked:  # one CPU: the PDFs are laid out in this process
                    from .native_libraries import import_weasyprint

                    import_weasyprint()
                from .vega_runtime import warm_up

                warm_up()
                self.runtime_started = True
        except Exception:  # noqa: BLE001 - only a head start: rendering meets the error again, where it is handled
            pass

    def ready(self) -> None:
        """Wait for the warm-up thread (rendering forks the narrative's filling process)."""
        if self._thread is not None:
            self._thread.join()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            self.ready()
        finally:
            if self.templates_cache is not None:
                use_template_cache(None)
            if self.jobs is not None:
                self.jobs.__exit__(kind, error, trace)
