"""Loading: raw extracts checked against the contract into the warehouse's landing tables.

Modules, one job each: ``loader`` (the run: ``load()``), ``deliveries`` (the delivery order,
and what changed since the previous load), ``staging`` (a file's columns as text), ``csv_files``
(a CSV's bytes and encoding), ``csv_scan`` (where a CSV's rows start, following its quotes), ``csv_rows`` (a CSV's
rows, parsed and checked), ``checks`` (typing and checking a row in SQL), ``bia_map`` (a blank
BIA from the coordinates), ``landing`` (the landing tables, exact duplicates collapsed), ``sql``
(quoting), ``errors`` (:class:`LoadError`) and ``overrides`` (analyst reference overrides).
"""

from .errors import LoadError
from .loader import LoadNote, LoadSummary, load
from .overrides import OverrideError, load_service_standards

__all__ = ["LoadError", "LoadNote", "LoadSummary", "OverrideError", "load", "load_service_standards"]
