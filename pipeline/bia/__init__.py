"""The BIA monthly reports: one PDF per Business Improvement Area, and their e-mail."""

from .batch import EXPOSURE, BiaError, run_batch, summary_lines
from .mail import SEND_LOG, SendError, send_reports

__all__ = ["EXPOSURE", "SEND_LOG", "BiaError", "SendError", "run_batch", "send_reports", "summary_lines"]
