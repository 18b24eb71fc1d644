"""cx311: 311 customer-experience analytics pipeline and accessible report generator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cx311")  # the one version number lives in pyproject.toml
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
