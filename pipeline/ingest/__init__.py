"""Loading: raw extracts checked against the contract into the warehouse's landing tables."""

from .loader import LoadError, LoadSummary, load
from .overrides import OverrideError, load_service_standards

__all__ = ["LoadError", "LoadSummary", "OverrideError", "load", "load_service_standards"]
