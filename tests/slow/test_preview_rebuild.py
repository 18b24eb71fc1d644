"""`preview` when the inputs change: the page says so, the server rebuilds (load and dbt build in
a child process) and the page shows the new figures; a rebuild that fails says why in the page
and keeps the figures from before, and the next change rebuilds again. A second build of the
hand-made extracts, so in the slow suite."""

from __future__ import annotations

import html
import urllib.request

import pytest

from pipeline.cli import main
from tests.integration.extracts import write_extracts
from tests.integration.test_preview import YEAR, Preview
from tests.support.polling import wait_until

KB_HEADING = '<h4 id="kb-articles">'
NOTICE = 'class="cx311-preview-notice"'


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory):
    raw = tmp_path_factory.mktemp("raw")
    output = tmp_path_factory.mktemp("output")
    write_extracts(raw)
    assert main(["load", "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]) == 0
    server = Preview({"raw": raw, "output": output})
    yield server, raw
    server.stop()


def annual(server: Preview) -> str:
    with urllib.request.urlopen(f"{server.url()}cx-annual-report-{YEAR}.html", timeout=10) as response:
        return response.read().decode("utf-8")


def test_a_removed_extract_is_rebuilt_and_its_figures_leave_the_page(preview) -> None:
    server, raw = preview
    assert KB_HEADING in annual(server) and NOTICE not in annual(server)
    (raw / YEAR / "kb_views_2024.csv").unlink()
    wait_until(lambda: f"The inputs changed ({YEAR}/kb_views_2024.csv): rebuilding" in annual(server), 10,
               lambda: f"the page to say the inputs changed:\n{server.text()}")
    assert KB_HEADING in annual(server)  # the figures from before, while it rebuilds
    wait_until(lambda: NOTICE not in annual(server), 240, lambda: f"the rebuild to end:\n{server.text()}")
    assert KB_HEADING not in annual(server)  # no knowledge-base views in 2024 any more
    assert "rebuilt: the pages show the new figures" in server.text()


def test_a_failed_rebuild_says_why_and_keeps_the_figures(preview) -> None:
    server, raw = preview
    profile = raw / "reference" / "city.yaml"
    profile.parent.mkdir(exist_ok=True)
    profile.write_text("city: Toronto\ncitty: typo\n", encoding="utf-8")
    wait_until(lambda: "The rebuild failed: " in annual(server), 60,
               lambda: f"the page to say the rebuild failed:\n{server.text()}")
    page = annual(server)
    notice = html.unescape(page[page.index(NOTICE):page.index("</div>", page.index(NOTICE))])
    assert "reference/city.yaml, line 2, key 'citty': unknown key" in notice
    assert "The figures shown are from before the change" in notice
    assert '<main id="main"' in page  # the document is still there
    profile.unlink()  # the next change rebuilds again, and succeeds
    wait_until(lambda: NOTICE not in annual(server), 120, lambda: f"the next rebuild to end:\n{server.text()}")
    assert server.process.poll() is None
