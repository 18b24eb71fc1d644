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


def pdf_words(path: Path) -> str:
    """The document's text as one line of words (a sentence broken across lines is found whole)."""
    return " ".join(pdf_text(path).split())


def page_texts(path: Path) -> list[str]:
    """``pdftotext -layout`` of every page (form feeds split the pages)."""
    return pdf_text(path).split("\f")[:-1]


def page_fills(path: Path, top_cm: float = 2.3, bottom_cm: float = 2.2) -> list[float]:
    """How far down its body each page's text reaches, 0–1: the lowest word above the bottom
    margin (the running foot is below it), measured from the top margin (pdf.css's @page
    margins), as ``pdftotext -bbox`` places the words."""
    import re

    assert shutil.which("pdftotext"), "pdftotext is needed: apt-get install -y poppler-utils"
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    fills = []
    for page in out.split("<page ")[1:]:
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        top, bottom = top_cm / 2.54 * 72, height - bottom_cm / 2.54 * 72
        lows = [float(y) for y in re.findall(r'yMax="([\d.]+)"', page) if float(y) <= bottom + 1]
        fills.append(max(0.0, (max(lows) - top) / (bottom - top)) if lows else 0.0)
    return fills
