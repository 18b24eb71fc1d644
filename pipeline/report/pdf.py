"""Tagged PDF/UA-1 from print HTML (WeasyPrint), reproducibly, optionally in forked workers.

Public interface::

    html_to_pdf(html) -> bytes          # one PDF, in this process
    source_date() -> str | None         # the PDF metadata date (SOURCE_DATE_EPOCH) or None
    pdf_worker_init(warm=False)         # initializer of a pool whose workers call html_to_pdf
    PdfJobs(warm=False)                 # context manager: start(), submit(html) -> result() -> bytes
    layout_key(html) -> str             # SHA-256 of everything a PDF is laid out from
    Layouts.of(folder, force)           # the published set's PDFs, reused when their key matches

The PDF has fixed metadata (no wall-clock dates unless ``SOURCE_DATE_EPOCH`` is set) and a
document identifier derived from its HTML.

**No layout without cause.** A PDF is a function of its print HTML, the files the HTML embeds
(the fonts its stylesheet names, resolved against the templates folder) and the software that
lays it out (WeasyPrint and the packages it lays out with, pikepdf, and this module's,
``pdf_tags``' and ``pdf_links``' code). ``layout_key`` hashes all of them; ``manifest.json``
records each PDF's key (``layout_sha256``), and a run whose key for a PDF equals the published
set's copies the published file (after checking its SHA-256 against the manifest) instead of
laying it out again: the bytes are the ones a layout would give.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import os
import platform
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import sha256
from ..manifest import published_outputs
from ..outputs import die_with_parent
from ..paths import PACKAGE_DIR, TEMPLATES_DIR
from .native_libraries import import_weasyprint
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
    weasyprint = import_weasyprint()
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


def pdf_worker_init(warm: bool = False, rehearse: bool = False, turn: Any = None) -> None:
    """A PDF worker never outlives a killed run. With ``warm`` (some PDF will surely be laid
    out: nothing published to reuse) it imports WeasyPrint (about 0.5 s) as it starts, while the
    parent draws charts, rather than with its first PDF; without, a worker that lays out nothing
    (every PDF reused) costs no import. With ``rehearse`` too (there is time to spare: dbt is
    building) it also lays out a few lines in the documents' PDF stylesheet
    (``rehearse_layout``), the workers one at a time (``turn``, a lock they share): dbt's
    start, single-threaded, keeps the other core. Then Python's collector leaves what they made
    out of its collections (``gc.freeze``): WeasyPrint's modules, fonts and caches, which each
    full collection of a layout went through (Appendix A's took 0.3 s of collections, 0.16 s
    with them frozen, ``gc.callbacks``)."""
    die_with_parent()
    if warm:
        with turn if turn is not None else contextlib.nullcontext():
            import_weasyprint()

            if rehearse:
                try:
                    rehearse_layout()
                except Exception:  # noqa: BLE001 - a failing initializer would break the pool: the real layout reports it
                    pass
            gc.freeze()  # what the import and the rehearsal made lives on: a layout's collections skip it


def rehearse_layout() -> None:
    """Lay out a few lines, a table and an SVG text in the documents' PDF stylesheet and throw
    the PDF away: a process's first layout also loads fontconfig, Pango and the shipped fonts
    (about 0.15 s more than the next); the PDFs laid out after it are the same bytes."""
    from .styles import stylesheet

    html_to_pdf('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>-</title>'
                f"<style>{stylesheet('pdf')}</style></head><body><h1>A <b>b</b> <i>1</i></h1>"
                '<table><tr><th scope="row">a</th><td>1</td></tr></table>'
                '<svg width="9" height="9"><text x="1" y="5">a</text></svg></body></html>')


def _worker_ready() -> None:
    """A no-op task: submitting it forks the pool's workers."""


# ----------------------------------------------------------------------------- layout keys

# files the layout depends on besides its HTML: the code that lays out and post-processes
LAYOUT_CODE = ("report/pdf.py", "report/pdf_tags.py", "report/pdf_links.py", "report/native_libraries.py")
# url("…") in a stylesheet, src="…" of an element: what WeasyPrint reads beside the HTML
_EMBEDDED = re.compile(r"""url\(\s*["']?([^"')\s]+)|\bsrc\s*=\s*["']([^"']+)["']""")
_REQUIREMENT = re.compile(r"^([A-Za-z0-9._-]+)")


@functools.cache
def layout_software() -> str:
    """SHA-256 of the software a PDF is laid out with: the versions of WeasyPrint, the packages
    it requires (pydyf, tinycss2, fontTools, Pillow…) and pikepdf, the Python version, and the
    source of ``LAYOUT_CODE``."""
    from importlib import metadata

    names = {"weasyprint", "pikepdf"}
    for requirement in metadata.requires("weasyprint") or []:
        if "extra ==" not in requirement and (m := _REQUIREMENT.match(requirement)):
            names.add(m.group(1).lower())
    h = hashlib.sha256(f"python {platform.python_version()}\n".encode())
    for name in sorted(names):
        h.update(f"{name}=={metadata.version(name)}\n".encode())
    for rel in LAYOUT_CODE:
        h.update(f"{rel} {sha256(PACKAGE_DIR / rel)}\n".encode())
    return h.hexdigest()


def embedded_files(html: str) -> list[str]:
    """The relative references of the print HTML that WeasyPrint reads from the templates
    folder (``url("fonts/Lato-Regular.ttf")``, an ``<img src>``), sorted, without repeats;
    data: URLs, fragments and absolute URLs are not files."""
    refs = {a or b for a, b in _EMBEDDED.findall(html)}
    return sorted(r for r in refs if not re.match(r"(?i)^([a-z][a-z0-9+.-]*:|#|/)", r))


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return sha256(Path(path))


def layout_key(html: str) -> str:
    """SHA-256 of everything the PDF of ``html`` is laid out from: the software
    (``layout_software``), the templates folder it resolves against, the HTML, and the name
    and SHA-256 of each file it embeds (``missing`` for one that does not exist)."""
    h = hashlib.sha256(f"{layout_software()}\n{TEMPLATES_DIR}\n".encode())
    h.update(hashlib.sha256(html.encode("utf-8")).digest())
    for rel in embedded_files(html):
        path = TEMPLATES_DIR / rel
        try:
            stat = path.stat()
            digest = _file_digest(str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            digest = "missing"
        h.update(f"\n{rel} {digest}".encode())
    return h.hexdigest()


def reuse_pdf(published: dict[str, Any] | None, key: str) -> bytes | None:
    """The published PDF's bytes when it was laid out from ``key`` and is still the file its
    manifest describes; else None. ``published``: ``{"path", "sha256", "layout_sha256"}``."""
    if not published or published.get("layout_sha256") != key:
        return None
    try:
        data = Path(published["path"]).read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == published.get("sha256") else None


@dataclass
class Layouts:
    """The PDFs of one result set: each one's layout key (for its manifest) and which were
    reused from the published set (``folder``), or laid out (``laid_out``). With ``force``
    nothing is reused."""

    folder: Path | None = None
    force: bool = False
    published: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → manifest entry
    keys: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    laid_out: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, folder: Path | None, force: bool = False) -> Layouts:
        """What the published set in ``folder`` (its manifest.json) offers to reuse."""
        published = {} if folder is None or force else published_outputs(Path(folder))
        return cls(folder=None if folder is None else Path(folder), force=force, published=published)

    def entry(self, name: str) -> dict[str, Any] | None:
        """What ``reuse_pdf`` needs to reuse the published ``name`` (None: nothing to reuse)."""
        found = self.published.get(name)
        if self.folder is None or not found or not found.get("layout_sha256"):
            return None
        return {"path": str(self.folder / name), "sha256": found.get("sha256"),
                "layout_sha256": found["layout_sha256"]}

    def sure_to_lay_out(self, names: list[str]) -> bool:
        """True when one of ``names`` has no published PDF to reuse (a first run, ``force``):
        then workers and the chart runtime are worth starting before they are asked for."""
        return any(self.entry(name) is None for name in names)

    def record(self, name: str, key: str, reused: bool) -> None:
        self.keys[name] = key
        (self.reused if reused else self.laid_out).append(name)

    def reusable(self, name: str, key: str) -> bytes | None:
        """The published ``name`` when its key is ``key`` (recorded as reused), else None."""
        data = reuse_pdf(self.entry(name), key)
        if data is not None:
            self.record(name, key, True)
        return data


def pdf_pool(warm: bool = False, rehearse: bool = False) -> ProcessPoolExecutor | None:
    """A pool of forked workers for WeasyPrint, or None to render in this process; ``warm`` and
    ``rehearse``: see ``pdf_worker_init``.

    Fork (not spawn): the workers need nothing but ``html_to_pdf`` and must not re-run the
    caller's ``__main__`` (``python -m pipeline`` has no main guard). The workers are forked at
    the first ``submit``; they never draw a chart: vl-convert's runtime threads do not survive a
    fork, so a worker forked from a process that had drawn one would wait for them forever.
    """
    import multiprocessing

    if PDF_WORKERS < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("fork")
    turn = context.Lock() if rehearse else None
    return ProcessPoolExecutor(max_workers=PDF_WORKERS, mp_context=context,
                               initializer=pdf_worker_init, initargs=(warm, rehearse, turn))


class PdfJobs:
    """PDFs laid out in forked workers (``pdf_pool``) as soon as they are submitted, or, with
    one CPU, in this process when their result is asked for.

    ``start()`` forks the workers; ``submit(html)`` returns a function giving the PDF bytes.
    Leaving the ``with`` block cancels what is still queued. ``warm`` and ``rehearse``: see
    ``pdf_worker_init``.
    """

    def __init__(self, warm: bool = False, rehearse: bool = False) -> None:
        self._pool = pdf_pool(warm, rehearse)

    def __enter__(self) -> PdfJobs:
        return self

    @property
    def forked(self) -> bool:
        """True when the PDFs are laid out in forked workers (False: in this process)."""
        return self._pool is not None

    def start(self) -> None:
        """Fork the workers now (before this process draws a chart: see ``pdf_pool``)."""
        if self._pool is not None:
            self._pool.submit(_worker_ready)

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def submit(self, html: str) -> Callable[[], bytes]:
        if self._pool is None:
            return functools.partial(html_to_pdf, html)
        return self._pool.submit(html_to_pdf, html).result
