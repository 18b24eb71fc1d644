"""Publishing the annual report and its appendices: formatting, templates, charts, PDF."""

from .render import render_annual_report
from .sources import report_meta

__all__ = ["render_annual_report", "report_meta"]
