"""No layout without cause: what a PDF's layout key covers, and when a published PDF is reused
(pipeline/report/pdf.py, manifest.json's layout_sha256). No WeasyPrint here: the PDFs are made
with pikepdf."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pikepdf
import pytest

from pipeline.manifest import published_outputs, write_manifest
from pipeline.report import pdf
from pipeline.report.pdf import Layouts, embedded_files, layout_key, reuse_pdf


def test_embedded_files_are_the_relative_urls_and_sources() -> None:
    html = ('<style>@font-face { src: url("fonts/Lato-Regular.ttf") format("truetype"); }\n'
            "@font-face { src: url( 'fonts/Lato-Bold.ttf' ); } .a { background: url(data:image/png;base64,AA) }\n"
            '.b { fill: url(#gradient) } .c { background: url("https://example.org/x.png") }</style>'
            '<img src="img/logo.png" alt=""><a href="appendix-a.pdf">A</a><img src="/abs.png" alt="">'
            '<p>url("fonts/Lato-Regular.ttf") again</p>')
    # the attachment's href is a link, not something the layout reads; data:, #, http(s) and
    # absolute paths are no file of the templates folder; a repeat is one file
    assert embedded_files(html) == ["fonts/Lato-Bold.ttf", "fonts/Lato-Regular.ttf", "img/logo.png"]


@pytest.fixture
def templates(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "templates"
    (folder / "fonts").mkdir(parents=True)
    (folder / "fonts" / "A.ttf").write_bytes(b"first font")
    monkeypatch.setattr(pdf, "TEMPLATES_DIR", folder)
    return folder


HTML = '<style>@font-face { src: url("fonts/A.ttf"); }</style><p>Hello</p>'


def test_the_key_is_the_same_for_the_same_html_and_files(templates: Path) -> None:
    assert layout_key(HTML) == layout_key(HTML)
    assert len(layout_key(HTML)) == 64


def test_the_key_changes_with_the_html(templates: Path) -> None:
    assert layout_key(HTML) != layout_key(HTML.replace("Hello", "Hello."))


def test_the_key_changes_with_an_embedded_file(templates: Path) -> None:
    before = layout_key(HTML)
    font = templates / "fonts" / "A.ttf"
    font.write_bytes(b"other font")
    os.utime(font, ns=(font.stat().st_mtime_ns + 10**9,) * 2)  # a new version of the file
    assert layout_key(HTML) != before
    font.unlink()
    assert layout_key(HTML) not in (before, layout_key(HTML.replace("A.ttf", "B.ttf")))


def test_the_key_changes_with_the_layout_software(templates: Path, monkeypatch) -> None:
    before = layout_key(HTML)
    monkeypatch.setattr(pdf, "layout_software", lambda: "another WeasyPrint")
    assert layout_key(HTML) != before


def test_the_software_covers_weasyprint_its_requirements_and_the_layout_code(monkeypatch) -> None:
    import importlib
    from importlib import metadata

    seen: set[str] = set()

    class Recorder:  # importlib.metadata, noting which versions are read
        requires = staticmethod(metadata.requires)

        @staticmethod
        def version(name: str) -> str:
            seen.add(name.lower())
            return metadata.version(name)

    monkeypatch.setattr(importlib, "metadata", Recorder)
    assert pdf.layout_software.__wrapped__() == pdf.layout_software()  # the cached value is the same
    assert {"weasyprint", "pydyf", "tinycss2", "fonttools", "pillow", "pikepdf"} <= seen



def test_the_software_changes_with_the_code_that_lays_out(tmp_path: Path, monkeypatch) -> None:
    import shutil

    for rel in pdf.LAYOUT_CODE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf.PACKAGE_DIR / rel, tmp_path / rel)
    monkeypatch.setattr(pdf, "PACKAGE_DIR", tmp_path)
    same = pdf.layout_software.__wrapped__()
    assert same == pdf.layout_software()
    with (tmp_path / "report" / "pdf_tags.py").open("a", encoding="utf-8") as f:
        f.write("# a change\n")
    assert pdf.layout_software.__wrapped__() != same


def tiny_pdf(pages: int = 2) -> bytes:
    doc = pikepdf.new()
    for _ in range(pages):
        doc.add_blank_page()
    out = io.BytesIO()
    doc.save(out, deterministic_id=True)
    return out.getvalue()


def published(folder: Path, keys: dict[str, str]) -> dict[str, bytes]:
    """A published set in ``folder``: two PDFs and an HTML file, with its manifest."""
    folder.mkdir(parents=True)
    files = {"a.pdf": tiny_pdf(2), "b.pdf": tiny_pdf(3), "a.html": b"<p>a</p>"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    write_manifest(folder, [], [folder / n for n in files], {"city": "Toronto"}, keys)
    return files


def test_the_manifest_records_each_pdfs_layout_key(tmp_path: Path) -> None:
    files = published(tmp_path / "set", {"a.pdf": "k" * 64, "b.pdf": "m" * 64})
    outputs = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert outputs == [
        {"name": "a.html", "sha256": hashlib.sha256(files["a.html"]).hexdigest()},
        {"name": "a.pdf", "sha256": hashlib.sha256(files["a.pdf"]).hexdigest(), "pages": 2,
         "layout_sha256": "k" * 64},
        {"name": "b.pdf", "sha256": hashlib.sha256(files["b.pdf"]).hexdigest(), "pages": 3,
         "layout_sha256": "m" * 64},
    ]
    assert published_outputs(tmp_path / "set") == {o["name"]: o for o in outputs}


def test_no_manifest_or_a_broken_one_offers_nothing(tmp_path: Path) -> None:
    assert published_outputs(tmp_path / "nothing-here") == {}
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert published_outputs(tmp_path) == {}


def test_a_published_pdf_is_reused_only_for_its_own_key(tmp_path: Path) -> None:
    files = published(tmp_path / "set", {"a.pdf": "k" * 64, "b.pdf": "m" * 64})
    layouts = Layouts.of(tmp_path / "set")
    assert layouts.reusable("a.pdf", "k" * 64) == files["a.pdf"]
    assert layouts.reusable("b.pdf", "k" * 64) is None  # laid out from something else
    assert layouts.reusable("c.pdf", "k" * 64) is None  # not in the set
    layouts.record("b.pdf", "k" * 64, False)
    assert (layouts.reused, layouts.laid_out) == (["a.pdf"], ["b.pdf"])
    assert layouts.keys == {"a.pdf": "k" * 64, "b.pdf": "k" * 64}


def test_force_reuses_nothing(tmp_path: Path) -> None:
    published(tmp_path / "set", {"a.pdf": "k" * 64})
    assert Layouts.of(tmp_path / "set", force=True).reusable("a.pdf", "k" * 64) is None
    assert Layouts().reusable("a.pdf", "k" * 64) is None  # no published set at all


def test_a_layout_is_sure_only_for_a_pdf_with_nothing_published(tmp_path: Path) -> None:
    """What decides whether the workers import WeasyPrint, and vl-convert starts, up front."""
    published(tmp_path / "set", {"a.pdf": "k" * 64, "b.pdf": "m" * 64})
    layouts = Layouts.of(tmp_path / "set")
    assert not layouts.sure_to_lay_out(["a.pdf", "b.pdf"])  # both may be reused: a rerun
    assert layouts.sure_to_lay_out(["a.pdf", "c.pdf"])      # c.pdf was never published
    assert Layouts.of(tmp_path / "set", force=True).sure_to_lay_out(["a.pdf"])
    assert Layouts.of(tmp_path / "nothing-here").sure_to_lay_out(["a.pdf"])  # a first run


def test_a_published_pdf_that_is_no_longer_the_manifests_is_not_reused(tmp_path: Path) -> None:
    published(tmp_path / "set", {"a.pdf": "k" * 64, "b.pdf": "m" * 64})
    (tmp_path / "set" / "a.pdf").write_bytes(tiny_pdf(5))  # changed since it was published
    (tmp_path / "set" / "b.pdf").unlink()
    layouts = Layouts.of(tmp_path / "set")
    assert layouts.reusable("a.pdf", "k" * 64) is None
    assert layouts.reusable("b.pdf", "m" * 64) is None
    assert layouts.reused == []


def test_reuse_pdf_checks_key_and_bytes(tmp_path: Path) -> None:
    data = tiny_pdf(1)
    (tmp_path / "x.pdf").write_bytes(data)
    entry = {"path": str(tmp_path / "x.pdf"), "sha256": hashlib.sha256(data).hexdigest(), "layout_sha256": "k"}
    assert reuse_pdf(entry, "k") == data
    assert reuse_pdf(entry, "j") is None
    assert reuse_pdf({**entry, "sha256": "0" * 64}, "k") is None
    assert reuse_pdf(None, "k") is None


def test_a_warm_worker_leaves_what_its_start_made_out_of_collections() -> None:
    # pdf_worker_init in a forked process, as the PDF pool runs it: with `warm` it imports
    # WeasyPrint (and rehearses a layout), then freezes what that made (gc.freeze: WeasyPrint's
    # modules, fonts and caches: about 62,000 objects); a cold worker imports and freezes nothing
    import gc
    import multiprocessing

    context = multiprocessing.get_context("fork")
    frozen = {}
    for warm, rehearse in ((True, True), (True, False), (False, False)):
        with context.Pool(1, initializer=pdf.pdf_worker_init, initargs=(warm, rehearse, None)) as pool:
            frozen[(warm, rehearse)] = pool.apply(gc.get_freeze_count)
    assert frozen[(True, True)] > 50_000 and frozen[(True, False)] > 50_000
    assert frozen[(False, False)] == gc.get_freeze_count() == 0  # this process froze nothing either
