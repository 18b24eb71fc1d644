"""cx311: 311 customer-experience analytics pipeline and accessible report generator."""

__version__ = "0.1.0"
