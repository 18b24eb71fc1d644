"""The text of a PDF as poppler's ``pdftotext -layout`` reads it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def pdf_text(path: Path) -> str:
    """``pdftotext -layout`` of the whole document (a form feed ends each page)."""
    assert shutil.which("pdftotext"), "pdftotext is needed: apt-get install -y poppler-utils"
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def page_texts(path: Path) -> list[str]:
    """``pdftotext -layout`` of every page (form feeds split the pages)."""
    return pdf_text(path).split("\f")[:-1]
