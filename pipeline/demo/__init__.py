"""The synthetic demo data set, calibrated to figures 311 Toronto published."""

from .dataset import ROW_GROUP_ROWS, generate, remove

__all__ = ["ROW_GROUP_ROWS", "generate", "remove"]
