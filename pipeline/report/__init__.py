"""Publishing the annual report and its appendices.

Modules, one job each: ``formatting`` (how figures read), ``environment`` (the Jinja
environments), ``rows`` (key_metrics rows shared by tables and charts), ``charts`` (accessible
SVG charts, one export path), ``chart_specs`` (the key-metric chart catalogue), ``narrative``
(the analyst's Markdown), ``context`` (template context), ``styles`` (stylesheets and embedded
fonts), ``pdf`` (HTML → tagged PDF, worker pool), ``head_start`` (what rendering needs before
the figures exist, done while dbt builds), ``annual`` (render and write the documents),
``sources`` (what a report says about its inputs).

``render_annual_report`` and ``report_meta`` are imported when first asked for: importing a
module of this package (``pipeline.report.head_start``) does not import Altair and the rest
of the renderer, so the CLI can do that in a thread while dbt builds.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["render_annual_report", "report_meta"]
_HOME = {"render_annual_report": ".annual", "report_meta": ".sources"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name], __name__), name)
