"""The synthetic demo data set, calibrated to figures 311 Toronto published."""

from .dataset import generate

__all__ = ["generate"]
