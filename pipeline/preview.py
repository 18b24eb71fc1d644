"""``make preview``: the year's documents as HTML on http://127.0.0.1:<port>/, rendered again
after every save, in a browser that reloads itself.

Public interface::

    Figures.read(db_path, raw_dir, year, month=None) -> Figures   # what the documents show
    Site(figures, raw_dir, year, month=None)                     # renders the pages
    serve(site, port, rebuild, say)                              # until Ctrl-C

What is watched, and what a change does (``Site.classify``):

* ``<raw>/narrative/<year>/`` (the Markdown files and ``report.yaml``): the annual report and
  Appendix A and B are rendered again as HTML from the figures in memory: no dbt, no chart
  drawn again, no PDF. A narrative or front-matter error replaces the documents with a page
  that gives the file, line and message; the next good save brings them back.
* ``report_templates/`` (templates, CSS, fonts, the neutral defaults): the same, and the BIA
  reports are rendered again when next shown.
* anything else under ``<raw>`` (the extracts, ``reference/``, the city profile
  ``reference/city.yaml``) and the shipped profile (``pipeline/data/city.yaml``): the page says
  the inputs changed and the server rebuilds (``rebuild``: ``python -m pipeline load`` in a
  child process, waiting for the run lock like any run), then reads the figures again.

Every page served carries a small script that listens to ``/_preview/events`` (server-sent
events): each message gives every page's version, and a page whose version changed reloads.
The server binds 127.0.0.1 only. Ctrl-C (or SIGTERM) stops it: the watcher, the open event
streams and a rebuild still running end with it.

The libraries: watchfiles watches the folders (inotify, through Rust's notify; a save is seen
in about 50 ms), Starlette answers the requests and streams the events, uvicorn serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from .errors import CxError
from .outputs import die_with_parent
from .paths import DATA_DIR, TEMPLATES_DIR

EVENTS = "/_preview/events"
HOST = "127.0.0.1"  # never another address: the preview is for the analyst's own browser
KEEP_ALIVE = 15.0   # seconds between two comments on an idle event stream
PROFILE_DEFAULT = DATA_DIR / "city.yaml"


class PreviewError(CxError):
    """The preview cannot start (the port is taken, no figures for the year)."""


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    """What the documents show, read from the warehouse once per build: the key metrics, the
    report's sources, the charts (drawn once), and for a month the BIA reports' data."""

    metrics: dict[str, Any]
    meta: dict[str, Any]
    specs: list[Any] = field(default_factory=list)
    bia: dict[str, Any] | None = None  # {"data", "jobs" by slug, "demo"}

    @classmethod
    def read(cls, db_path: Path, raw_dir: Path, year: int, month: str | None = None) -> Figures:
        """Read the figures (call with the run lock held: nothing may write the warehouse)."""
        from .metrics import key_metrics
        from .report import report_meta

        metrics = key_metrics(db_path, year)
        if metrics["interactions"] is None and metrics["service_requests"] is None:
            raise PreviewError(f"The extracts in {raw_dir} hold no data for {year}.")
        figures = cls(metrics=metrics, meta=report_meta(raw_dir, db_path, year))
        if month is not None:
            from .bia.batch import month_data, parse_month, render_job, slugify, source_files
            from .contract import is_demo

            data = month_data(db_path, month)
            demo = is_demo(raw_dir)
            files = [f["name"] for f in source_files(db_path, parse_month(data.month).year)]
            jobs = {slugify(r["bia_name"]): render_job(data, r, demo, files, db_path.parent) for r in data.records}
            figures.bia = {"data": data, "jobs": jobs, "demo": demo}
        return figures

    def draw(self) -> Figures:
        """Draw the charts (once per build: a narrative save does not draw them again)."""
        from .report.chart_specs import key_metric_specs

        self.specs = key_metric_specs(self.metrics)
        return self


# --------------------------------------------------------------------------- pages


PAGE = jinja2.Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="en-CA">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.5; }
.cx311-preview-error { border: 3px solid #b00020; padding: 0.5rem 1rem; background: #fff4f4; }
.cx311-preview-error pre { white-space: pre-wrap; font-size: 1rem; }
code { font-size: 0.95em; }
</style>
</head>
<body>
<main id="main">
<h1>{{ heading }}</h1>
{% if error %}
<div class="cx311-preview-error" role="alert">
<h2>The documents could not be rendered</h2>
<pre>{{ error }}</pre>
<p>Fix the file and save it: the documents come back by themselves. The preview keeps running.</p>
</div>
{% endif %}
{% if documents %}
<h2>The {{ year }} documents</h2>
<ul>
{% for d in documents %}<li><a href="{{ d.href }}">{{ d.name }}</a></li>
{% endfor %}</ul>
{% endif %}
{% if bia %}
<h2>BIA reports, {{ bia.month }}</h2>
<p><a href="{{ bia.index }}">The month's list of BIA reports</a> ({{ bia.count }} reports).</p>
{% endif %}
{% if watched %}
<h2>What the preview watches</h2>
<p>A save in one of these renders the HTML again (no dbt, no PDF), and the open pages reload
themselves:</p>
<ul>
{% for w in watched.render %}<li><code>{{ w }}</code></li>
{% endfor %}</ul>
<p>A change in one of these rebuilds the warehouse (load and dbt build) first; the pages say so
while it runs, and show the new figures when it is done:</p>
<ul>
{% for w in watched.rebuild %}<li><code>{{ w }}</code></li>
{% endfor %}</ul>
<p>The preview lays out no PDF: <code>make report YEAR={{ year }}</code> writes the documents.</p>
{% endif %}
</main>
</body>
</html>
""")

NOTICE = ('<div class="cx311-preview-notice" role="status" style="position: sticky; top: 0; z-index: 1000; '
          'background: #fff8e1; color: #1b1b1b; border-bottom: 3px solid #8a5a00; padding: 0.5rem 1rem; '
          'font: 1rem/1.4 system-ui, sans-serif;">{}</div>')

RELOAD = """<script>
(() => {
  const page = %s, shown = %s;
  const events = new EventSource(%s);
  events.onmessage = (message) => {
    const now = JSON.parse(message.data)[page];
    if (now !== undefined && now !== shown) { events.close(); location.reload(); }
  };
})();
</script>
"""


def error_message(error: BaseException) -> str:
    """What the page says about a failed render: the pipeline's own paragraph (file and line),
    a template's file and line, or the exception."""
    if isinstance(error, CxError):
        return str(error)
    if isinstance(error, jinja2.TemplateSyntaxError):
        where = error.filename or error.name or "a template"
        return f"{where}, line {error.lineno}: {error.message}"
    if isinstance(error, jinja2.TemplateError):
        return f"a template: {error.message or error}"
    return f"{type(error).__name__}: {error}"


class Site:
    """The preview's pages: the index, the year's three documents (rendered as soon as their
    sources change) and the month's BIA reports (rendered when shown), each with its version."""

    def __init__(self, figures: Figures, raw_dir: Path, year: int, month: str | None = None) -> None:
        from .report.context import DOCUMENTS

        self.figures = figures
        self.raw_dir = Path(raw_dir)
        self.year = year
        self.month = month
        self.documents = {f"/{stem.format(year=year)}.html": kind for kind, (stem, *_rest) in DOCUMENTS.items()}
        self.html: dict[str, str] = {}           # the documents' HTML, by path
        self.error: str | None = None            # why the documents could not be rendered
        self.notice: str | None = None           # the inputs changed: rebuilding, or it failed
        self.bia_generation = 0                  # bumped when the BIA reports must be rendered again
        self._bia_pages: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    # ---- what a change does

    def narrative_dir(self) -> Path:
        return self.raw_dir / "narrative" / str(self.year)

    def classify(self, path: str | Path) -> str | None:
        """'documents' (render the HTML again), 'templates' (that, after reading the templates
        and stylesheets again), 'inputs' (rebuild) or None (not the preview's business)."""
        path = Path(path)
        if path.is_relative_to(TEMPLATES_DIR):
            return "templates"
        if path == PROFILE_DEFAULT:
            return "inputs"
        if not path.is_relative_to(self.raw_dir):
            return None
        if path.is_relative_to(self.narrative_dir()):
            return "documents"
        if path.is_relative_to(self.raw_dir / "narrative"):
            return None  # another year's narrative
        return "inputs"

    # ---- rendering

    def render(self, templates_changed: bool = False) -> None:
        """Render the three documents' HTML again from the figures in memory (no dbt, no chart,
        no PDF); on an error, keep its message for the pages instead."""
        from .report.annual import render_html
        from .report.front_matter import forget_defaults
        from .report.narrative import render_report_text
        from .report.styles import forget_stylesheets

        with self._lock:
            if templates_changed:
                forget_stylesheets()
                forget_defaults()
                self.bia_generation += 1
            f = self.figures
            try:
                narrative = render_report_text(f.metrics, self.narrative_dir())
                self.html = {path: render_html(f.metrics, f.meta, "html", kind, f.specs, narrative)
                             for path, kind in self.documents.items()}
                self.error = None
            except Exception as error:  # noqa: BLE001 - shown in the page; the server keeps running
                self.error = error_message(error)

    def use(self, figures: Figures) -> None:
        """New figures (after a rebuild): the BIA reports are rendered again when shown."""
        with self._lock:
            self.figures = figures
            self.bia_generation += 1
        self.render()

    # ---- the pages

    def _bia_base(self) -> str:
        return f"/bia/{self.month}/"

    def paths(self) -> list[str]:
        """Every page the site serves (the BIA reports by slug)."""
        out = ["/", *self.documents]
        if self.figures.bia is not None:
            out.append(self._bia_base() + "index.html")
            out += [f"{self._bia_base()}{slug}.html" for slug in self.figures.bia["jobs"]]
        return out

    def versions(self) -> dict[str, str]:
        """Each page's version: it changes when what the page shows changes."""
        banner = self.notice or ""
        out = {path: _digest(self._document_or_error(path) + banner) for path in ["/", *self.documents]}
        bia = _digest(f"{self.bia_generation}\n{banner}")  # rendered when shown: by generation
        out.update({path: bia for path in self.paths() if path not in out})
        return out

    def _document_or_error(self, path: str) -> str:
        if path == "/":
            return self._index()
        if self.error is not None:
            return self._error_page()
        return self.html.get(path, "")

    def page(self, path: str) -> str | None:
        """The page at ``path`` with the notice (if any) and the reload script, or None."""
        if path in ("/", "/index.html"):
            path = "/"
        if path in self.documents or path == "/":
            body = self._document_or_error(path)
        elif self.figures.bia is not None and path.startswith(self._bia_base()):
            body = self._bia_page(path[len(self._bia_base()):])
            if body is None:
                return None
        else:
            return None
        return self._inject(body, path)

    def _bia_page(self, name: str) -> str | None:
        from .bia.batch import render_bia_html, render_index

        bia = self.figures.bia
        slug = name[:-len(".html")] if name.endswith(".html") else None
        if name == "index.html":
            data = bia["data"]
            entries = [{"name": j["record"]["bia_name"], "slug": s, "r": j["record"]} for s, j in bia["jobs"].items()]
            return render_index(data, entries, {}, bia["demo"])
        if slug not in bia["jobs"]:
            return None
        generation = self.bia_generation
        cached = self._bia_pages.get(slug)
        if cached is not None and cached[0] == generation:
            return cached[1]
        body = render_bia_html(bia["jobs"][slug], "html")
        self._bia_pages[slug] = (generation, body)
        return body

    def _index(self) -> str:
        from .report.formatting import setting_words

        words = setting_words(self.figures.metrics["settings"])
        documents = [{"href": path.lstrip("/"), "name": self._name(kind, words)} for path, kind in self.documents.items()]
        bia = None
        if self.figures.bia is not None:
            bia = {"month": self.month, "index": self._bia_base().lstrip("/") + "index.html",
                   "count": len(self.figures.bia["jobs"])}
        watched = {"render": [_shown(self.narrative_dir()) + "/", _shown(TEMPLATES_DIR) + "/"],
                   "rebuild": [_shown(self.raw_dir) + "/ (the extracts and reference/, not narrative/)",
                               _shown(self.raw_dir / "reference" / "city.yaml") + " (the city profile)",
                               _shown(PROFILE_DEFAULT) + " (the shipped profile)"]}
        return PAGE.render(title=f"Preview: {words['service']} documents {self.year}",
                           heading=f"Preview: {words['service']} documents {self.year}", error=self.error,
                           documents=documents, bia=bia, watched=watched, year=self.year)

    def _name(self, kind: str, words: dict[str, str]) -> str:
        from .report.context import named_documents

        return named_documents(words["service"])[kind][1].format(year=self.year)

    def _error_page(self) -> str:
        heading = f"Preview: the {self.year} documents"
        return PAGE.render(title=f"Error: {heading}", heading=heading, error=self.error, documents=[],
                           bia=None, watched=None, year=self.year)

    def _inject(self, body: str, path: str) -> str:
        """The notice after ``<body…>`` and the reload script before ``</body>``."""
        version = self.versions().get(path, "")
        script = RELOAD % (json.dumps(path), json.dumps(version), json.dumps(EVENTS))
        if self.notice:
            opening = re.search(r"<body[^>]*>", body)
            at = opening.end() if opening else 0
            body = body[:at] + "\n" + NOTICE.format(html.escape(self.notice)) + body[at:]
        end = body.rfind("</body>")
        return body[:end] + script + body[end:] if end >= 0 else body + script


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- the server


class Preview:
    """The running preview: the site, the watcher, the changes queued, the event streams."""

    def __init__(self, site: Site, rebuild: list[str], reread: Callable[[], Figures],
                 say: Callable[[str], None]) -> None:
        self.site = site
        self.rebuild_command = rebuild
        self.reread = reread
        self.say = say
        self.changed = asyncio.Event()
        self.stopping = asyncio.Event()
        self.queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.child: asyncio.subprocess.Process | None = None
        self.server: Any = None

    def announce(self) -> None:
        """Wake the event streams: the versions may have changed."""
        self.changed.set()
        self.changed = asyncio.Event()

    async def watch(self) -> None:
        """Queue every change under the watched folders (watchfiles)."""
        import watchfiles

        roots = [str(self.site.raw_dir), str(TEMPLATES_DIR), str(PROFILE_DEFAULT)]
        async for changes in watchfiles.awatch(*roots, stop_event=self.stopping, step=50, debounce=1000,
                                               watch_filter=watchfiles.DefaultFilter()):
            for _change, path in changes:
                kind = self.site.classify(path)
                if kind is not None:
                    self.queue.put_nowait((kind, path))

    async def work(self) -> None:
        """Take the queued changes in turn: render, or rebuild and then render. A failure is
        said on the console and in the pages; the next change is taken all the same."""
        while True:
            kinds = {await self.queue.get()}
            await asyncio.sleep(0.02)  # a save often touches several files at once
            while not self.queue.empty():
                kinds.add(self.queue.get_nowait())
            try:
                await self.apply(kinds)
            except Exception as error:  # noqa: BLE001 - the preview keeps running
                self.site.notice = f"The preview could not take the change: {error_message(error)}"
                self.say(f"error: {self.site.notice}")
                self.announce()

    async def apply(self, kinds: set[tuple[str, str]]) -> None:
        what = {k for k, _p in kinds}
        if "inputs" in what:
            await self.rebuild(sorted({_relative(p, self.site.raw_dir) for k, p in kinds if k == "inputs"}))
            return
        start = time.perf_counter()
        before = self.site.versions()
        await asyncio.to_thread(self.site.render, "templates" in what)
        after = self.site.versions()
        changed = [p for p in after if before.get(p) != after[p]]
        self.say(f"rendered the HTML again in {time.perf_counter() - start:.2f} s"
                 + (f": {', '.join(p.lstrip('/') or 'index' for p in changed)}" if changed else ": nothing changed")
                 + (f" (error: {self.site.error})" if self.site.error else ""))
        self.announce()

    async def rebuild(self, paths: list[str]) -> None:
        """Load and build in a child process, then read the figures again."""
        named = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        self.site.notice = (f"The inputs changed ({named}): rebuilding the warehouse (load and dbt build). "
                            "The figures shown are from before the change; the page reloads when the new "
                            "ones are ready.")
        self.say(f"the inputs changed ({named}): rebuilding")
        self.announce()
        error = await self.run_child()
        if self.stopping.is_set():
            return  # stopped in the middle: the child was ended, nothing to say
        if error is None:
            try:
                figures = await asyncio.to_thread(self.reread)
            except Exception as failure:  # noqa: BLE001 - shown in the page; the server keeps running
                error = error_message(failure)
            else:
                await asyncio.to_thread(self.site.use, figures)
        if error is None:
            self.site.notice = None
            self.say("rebuilt: the pages show the new figures")
        else:
            self.site.notice = (f"The rebuild failed: {error} The figures shown are from before the change; "
                                "the preview rebuilds again after the next change.")
            self.say(f"the rebuild failed: {error}")
        self.announce()

    async def run_child(self) -> str | None:
        """Run the rebuild command; None when it succeeded, else its error paragraph."""
        process = await asyncio.create_subprocess_exec(
            *self.rebuild_command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, preexec_fn=die_with_parent, start_new_session=True)
        self.child = process
        last: list[str] = []
        try:
            assert process.stderr is not None
            async for raw in process.stderr:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.say(f"  rebuild: {line}")
                last.append(line)
            code = await process.wait()
        finally:
            self.child = None
        if code == 0:
            return None
        errors = [line for line in last if line.startswith("error: ")]
        return errors[-1][len("error: "):] if errors else f"the rebuild stopped (exit status {code})."

    async def stop_child(self) -> None:
        """End a rebuild still running (SIGTERM, then SIGKILL after 5 s)."""
        process = self.child
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def events(self) -> Any:
        """The versions of every page now, and again at every change, as server-sent events."""
        sent = None
        last = time.monotonic()
        while not self.stopping.is_set() and not (self.server is not None and self.server.should_exit):
            changed = self.changed
            versions = json.dumps(self.site.versions(), sort_keys=True)
            if versions != sent:
                sent, last = versions, time.monotonic()
                yield f"data: {versions}\n\n"
            elif time.monotonic() - last >= KEEP_ALIVE:
                last = time.monotonic()
                yield ": keep-alive\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), 0.5)

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, PlainTextResponse, StreamingResponse
        from starlette.routing import Route

        async def page(request: Request) -> Any:
            path = request.url.path
            body = await asyncio.to_thread(self.site.page, path)
            if body is None:
                return PlainTextResponse(
                    f"Not found: {path}. The preview serves the HTML documents only (the index at /); "
                    f"`make report YEAR={self.site.year}` writes the PDFs.", status_code=404)
            return HTMLResponse(body, headers={"Cache-Control": "no-store"})

        async def events(request: Request) -> Any:
            return StreamingResponse(self.events(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-store"})

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> Any:
            tasks = [asyncio.create_task(self.watch()), asyncio.create_task(self.work())]
            try:
                yield
            finally:
                self.stopping.set()
                self.announce()
                await self.stop_child()
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

        return Starlette(routes=[Route(EVENTS, events), Route("/{path:path}", page)], lifespan=lifespan)


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return Path(path).name


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port), or PreviewError."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        raise PreviewError(f"Cannot serve on {HOST}:{port}: {error.strerror}. Another program (or another "
                           "preview) uses that port: give another with --port (make preview PORT=8001).") from error
    sock.listen(64)
    sock.set_inheritable(False)
    return sock


@contextlib.contextmanager
def _signals(server: Any) -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the server gracefully (a second Ctrl-C at once), and are not
    raised again after it stopped (uvicorn's own handler would: a traceback, or no cleanup)."""
    def handle(sig: int, frame: Any) -> None:
        server.handle_exit(sig, frame)

    originals = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in originals.items():
            signal.signal(sig, handler)


def serve(site: Site, port: int, rebuild: list[str], reread: Callable[[], Figures],
          say: Callable[[str], None]) -> None:
    """Serve ``site`` on 127.0.0.1:``port`` until Ctrl-C (see the module doc)."""
    import uvicorn

    sock = bind(port)
    preview = Preview(site, rebuild, reread, say)
    config = uvicorn.Config(preview.app(), log_level="warning", lifespan="on", timeout_graceful_shutdown=3,
                            access_log=False)

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with _signals(self):
                yield

    server = Server(config)
    preview.server = server
    say(f"preview of {site.year}{f' and the BIA reports of {site.month}' if site.month else ''}: "
        f"http://{HOST}:{sock.getsockname()[1]}/ (Ctrl-C stops it)")
    sys.stderr.flush()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    say("preview stopped")
