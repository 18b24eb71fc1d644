"""Publishing the annual report and its appendices.

Modules, one job each: ``formatting`` (how figures read), ``environment`` (the Jinja
environments), ``rows`` (key_metrics rows shared by tables and charts), ``charts`` (accessible
SVG charts, one export path), ``chart_specs`` (the key-metric chart catalogue), ``narrative``
(the analyst's Markdown), ``context`` (template context), ``styles`` (stylesheets and embedded
fonts), ``pdf`` (HTML → tagged PDF, worker pool), ``annual`` (render and write the documents),
``sources`` (what a report says about its inputs).
"""

from .annual import render_annual_report
from .sources import report_meta

__all__ = ["render_annual_report", "report_meta"]
