"""Shared pytest fixtures: a temporary raw folder, a warehouse path and a CSV writer."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """An empty raw-extract folder (the pipeline's ``raw/``)."""
    d = tmp_path / "raw"
    d.mkdir()
    return d


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a not-yet-created DuckDB warehouse file."""
    return tmp_path / "output" / "warehouse.duckdb"


def write_text_file(
    path: Path,
    text: str,
    encoding: str = "utf-8",
    mtime: float | None = None,
) -> Path:
    """Write ``text`` (dedented; surrounding blank lines stripped, one trailing newline).

    ``encoding`` is any Python codec (e.g. ``utf-8-sig`` or ``cp1252``); ``mtime`` sets the
    modification time (seconds since the epoch), which decides delivery order.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    body = textwrap.dedent(text).strip("\n") + "\n"
    with path.open("w", encoding=encoding, newline="") as f:
        f.write(body)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def write_csv(raw_dir: Path) -> Callable[..., Path]:
    """``write_csv("2024/interactions.csv", text, encoding=..., mtime=...)`` under raw_dir."""

    def _write(rel: str, text: str, encoding: str = "utf-8", mtime: float | None = None) -> Path:
        return write_text_file(raw_dir / rel, text, encoding=encoding, mtime=mtime)

    return _write
