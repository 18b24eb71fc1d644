"""Links from one PDF to another PDF beside it (the annual report's attachments).

WeasyPrint resolves a relative ``href`` ("appendix-a-key-metrics-2024.pdf") against the
document's base URL (the templates folder, for the fonts), so the PDF would point into the
report generator's own folder. ``relative_file_links`` turns every such link into a GoToR
action to the file of that name beside the PDF (ISO 32000-1 §12.6.4.3): it works wherever the
set of documents is filed together, and the link's /Contents names the file.

Public interface::

    relative_file_links(pdf, base_dir) -> bytes
    file_links(pdf) -> list[str]          # the files a PDF's links open (tests, checks)
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String


def relative_file_links(pdf: bytes, base_dir: Path) -> bytes:
    """``pdf`` with each link to a ``file://`` URL directly inside ``base_dir`` made a link to
    the file of that name beside the PDF. Deterministic; unchanged bytes when there is none."""
    prefix = Path(base_dir).resolve().as_uri().rstrip("/") + "/"
    changed = False
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for annot in page.obj.get("/Annots") or []:
                action = annot.get("/A")
                if annot.get("/Subtype") != Name.Link or action is None or action.get("/S") != Name.URI:
                    continue
                uri = str(action.get("/URI"))
                name = uri[len(prefix):] if uri.startswith(prefix) else ""
                if not name or "/" in name or "#" in name or "?" in name:
                    continue
                annot.A = Dictionary(S=Name.GoToR, F=String(name), D=Array([0, Name.Fit]),
                                     NewWindow=True)
                annot.Contents = String(name)
                changed = True
        if not changed:
            return pdf
        out = io.BytesIO()
        doc.save(out, deterministic_id=True, fix_metadata_version=False)
    return out.getvalue()


def file_links(pdf: Path | bytes) -> list[str]:
    """The file names the PDF's GoToR links open, in page order."""
    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    found = []
    with pikepdf.open(source) as doc:
        for page in doc.pages:
            for annot in page.obj.get("/Annots") or []:
                action = annot.get("/A")
                if action is not None and action.get("/S") == Name.GoToR:
                    found.append(str(action.F))
    return found
