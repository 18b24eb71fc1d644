"""Publishing the annual report and its appendices: formatting, templates, charts, PDF."""

from .render import render_annual_report

__all__ = ["render_annual_report"]
