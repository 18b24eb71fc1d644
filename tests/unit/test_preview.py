"""The preview's decisions without a server or a browser: what a saved file does, what a page
carries, which port it binds (pipeline/preview.py). The browser test is
tests/integration/test_preview.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import pytest

from pipeline import preview
from pipeline.preview import Figures, PreviewError, Site, bind, error_message
from pipeline.report.narrative import NarrativeError
from tests.support.key_metrics import load_metrics


@pytest.fixture
def site(tmp_path: Path) -> Site:
    figures = Figures(metrics=load_metrics(), meta={})  # the sample key metrics of 2024
    return Site(figures, tmp_path / "raw", 2024)


def test_what_a_saved_file_does(site: Site, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    assert site.classify(raw / "narrative" / "2024" / "highlights.md") == "documents"
    assert site.classify(raw / "narrative" / "2024" / "report.yaml") == "documents"
    assert site.classify(raw / "narrative" / "2023" / "highlights.md") is None  # another year's
    assert site.classify(raw / "2024" / "interactions_2024.csv") == "inputs"
    assert site.classify(raw / "reference" / "city.yaml") == "inputs"
    assert site.classify(preview.PROFILE_DEFAULT) == "inputs"
    assert site.classify(preview.TEMPLATES_DIR / "css" / "common.css") == "templates"
    assert site.classify(preview.TEMPLATES_DIR / "narrative" / "highlights.md") == "templates"
    assert site.classify(tmp_path / "output" / "2024" / "manifest.json") is None


DOCUMENT = '<!DOCTYPE html>\n<html lang="en-CA"><head><title>T</title></head>\n<body class="x">\n<p>Text</p>\n</body>\n</html>\n'


def test_a_page_carries_the_reload_script_with_its_own_version(site: Site) -> None:
    site.html = {path: DOCUMENT for path in site.documents}
    path = "/cx-annual-report-2024.html"
    page = site.page(path)
    assert page.startswith(DOCUMENT[:DOCUMENT.index("</body>")])  # the document as rendered
    script = page[page.index("<script>"):page.index("</script>")]
    assert f'const page = "{path}", shown = "{site.versions()[path]}";' in script
    assert 'new EventSource("/_preview/events")' in script
    assert page.endswith("</script>\n</body>\n</html>\n")


def test_a_notice_shows_at_the_top_and_changes_every_version(site: Site) -> None:
    site.html = {path: DOCUMENT for path in site.documents}
    before = site.versions()
    site.notice = "The inputs changed (2024/x.csv): rebuilding <now>."
    after = site.versions()
    assert all(before[p] != after[p] for p in before)
    page = site.page("/cx-annual-report-2024.html")
    opened = page.index('<body class="x">') + len('<body class="x">')
    assert page[opened:].startswith('\n<div class="cx311-preview-notice" role="status"')
    assert "The inputs changed (2024/x.csv): rebuilding &lt;now&gt;." in page


def test_an_error_replaces_the_documents_until_it_is_gone(site: Site) -> None:
    site.html = {path: DOCUMENT for path in site.documents}
    site.error = "raw/narrative/2024/highlights.md, line 3: 'nope' is undefined"
    for path in site.documents:
        page = site.page(path)
        assert "<p>Text</p>" not in page
        alert = re.search(r'<div class="cx311-preview-error" role="alert">(.*?)</div>', page, re.S).group(1)
        assert "<pre>raw/narrative/2024/highlights.md, line 3: &#39;nope&#39; is undefined</pre>" in alert
    site.error = None
    assert "<p>Text</p>" in site.page("/cx-annual-report-2024.html")


def test_unknown_paths_are_not_pages(site: Site) -> None:
    site.html = {path: DOCUMENT for path in site.documents}
    assert site.page("/cx-annual-report-2024.pdf") is None
    assert site.page("/bia/2024-07/index.html") is None  # no month asked for
    assert site.page("/../secret") is None


def test_error_messages_name_file_and_line() -> None:
    assert error_message(NarrativeError("raw/narrative/2024/x.md, line 2: boom")) == \
        "raw/narrative/2024/x.md, line 2: boom"
    syntax = jinja2.TemplateSyntaxError("unexpected '}'", 7, "annual_report.html", "annual_report.html")
    assert error_message(syntax) == "annual_report.html, line 7: unexpected '}'"
    assert error_message(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"


def test_the_versions_are_json_for_the_event_stream(site: Site) -> None:
    site.html = {path: DOCUMENT for path in site.documents}
    versions = json.loads(json.dumps(site.versions()))
    assert sorted(versions) == sorted(["/", *site.documents])


def test_bind_takes_the_loopback_only_and_names_a_taken_port() -> None:
    sock = bind(0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
        with pytest.raises(PreviewError, match=rf"Cannot serve on 127\.0\.0\.1:{port}: .*give another with --port"):
            bind(port)  # the port this one listens on
    finally:
        sock.close()
