"""The loader's one error type and how its messages are worded."""

from __future__ import annotations

from pathlib import Path

from ..errors import CxError


class LoadError(CxError):
    """A file (or the run) cannot be loaded; nothing from the run was written."""


def file_error(path: Path, problem: str) -> LoadError:
    """``Cannot load <path>: <problem> Nothing from this run was loaded.`` (one paragraph)."""
    return LoadError(f"Cannot load {path}: {problem} Nothing from this run was loaded.")


def duck_message(e: Exception) -> str:
    """The first line of a DuckDB error (at most 300 characters), for a LoadError message."""
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
