"""vl-convert's JavaScript runtime, started ahead of the first chart.

Public interface::

    register_fonts()          # vl-convert lays text out with the shipped fonts (once per process)
    warm_up()                 # starts the runtime in this thread (it draws one small chart)
    start_runtime() -> Thread # warm_up() in a thread of its own; join() it or not, as needed

vl-convert starts its runtime (Deno and V8, with Vega and Vega-Lite) at the first conversion:
about a second, the largest single cost of drawing a handful of charts. vl-convert releases
the GIL while it converts, so ``start_runtime`` lets that second pass while this process does
work that holds the GIL (importing Altair, filling the templates). Only vl_convert is imported
here, not Altair: the two imports run side by side.

Call ``start_runtime`` only after the process has forked the workers it needs (the runtime's
threads do not survive a fork: see ``pipeline.report.pdf.pdf_pool``) and only when charts are
to be drawn (a rerun that takes every chart from the cache never starts the runtime).
"""

from __future__ import annotations

import functools
import threading

from ..paths import TEMPLATES_DIR

# the smallest chart that makes vl-convert compile Vega-Lite, run Vega and lay text out
_WARM_UP = {"data": {"values": [{"x": "a", "y": 1}]}, "mark": "bar",
            "encoding": {"x": {"field": "x", "type": "nominal"}, "y": {"field": "y", "type": "quantitative"}}}
_LOCK = threading.Lock()


@functools.cache
def _registered() -> None:
    import vl_convert as vlc

    vlc.register_font_directory(str(TEMPLATES_DIR / "fonts"))


def register_fonts() -> None:
    """Lay text out with the shipped Lato (the font the report embeds), not a system fallback:
    once per process, before any conversion, whichever thread converts first."""
    with _LOCK:
        _registered()


def warm_up() -> None:
    """Start the runtime here and now: draw the smallest chart (fonts registered first)."""
    import vl_convert as vlc

    register_fonts()
    vlc.vegalite_to_svg(_WARM_UP)


def start_runtime() -> threading.Thread:
    """Start vl-convert's runtime in a thread (see the module doc); the thread ends when it has
    drawn its small chart. A failure there is left for the first real chart to report."""
    def run() -> None:
        try:
            warm_up()
        except Exception:  # noqa: BLE001 - the first real chart raises it again, where it is handled
            pass

    # not a daemon: the process waits for it to end rather than tearing V8 down under it
    thread = threading.Thread(target=run, name="vl-convert start")
    thread.start()
    return thread
