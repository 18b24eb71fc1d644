"""The analyst's loop (issue 24), on the hand-made extracts: a second `report` with one narrative
sentence changed lays out only the annual report's PDF; `preview` shows a saved sentence in the
open page without a reload (Chromium), shows a broken placeholder's error in the page, recovers
after the fix, and stops on Ctrl-C leaving no process behind, even in the middle of a rebuild."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.paths import PROJECT_DIR
from tests.integration.extracts import write_extracts
from tests.support import a11y, processes
from tests.support.polling import wait_until

YEAR = "2024"
ANNUAL, APPENDIX_A, APPENDIX_B = (f"cx-annual-report-{YEAR}.pdf", f"appendix-a-key-metrics-{YEAR}.pdf",
                                  f"appendix-b-key-metrics-{YEAR}-text-only.pdf")
FIRST = "The year's first sentence, as the analyst wrote it."
CHANGED = "The year's first sentence, as the analyst rewrote it."


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    raw = tmp_path_factory.mktemp("raw")
    output = tmp_path_factory.mktemp("output")
    write_extracts(raw)
    narrative = raw / "narrative" / YEAR
    narrative.mkdir(parents=True)
    (narrative / "highlights.md").write_text(f"{FIRST}\n", encoding="utf-8")
    args = ["report", "--year", YEAR, "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]
    assert main(args) == 0
    return {"raw": raw, "output": output, "narrative": narrative, "args": args}


def layout_keys(folder: Path) -> dict[str, str]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {o["name"]: o["layout_sha256"] for o in manifest["outputs"] if o["name"].endswith(".pdf")}


def test_one_changed_sentence_lays_out_only_the_annual_report(built: dict, capsys) -> None:
    published = built["output"] / YEAR
    first, first_keys = hashes(published), layout_keys(published)
    (built["narrative"] / "highlights.md").write_text(f"{CHANGED}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(built["args"]) == 0
    err = capsys.readouterr().err
    # the console says which were reused and which laid out
    assert (f"  reused the published PDF (its HTML and what it embeds are unchanged): {APPENDIX_B}, "
            f"{APPENDIX_A}\n  laid out: {ANNUAL}\n") in err
    cached = hashes(published)
    assert {n for n in cached if cached[n] != first[n]} == {
        ANNUAL, f"cx-annual-report-{YEAR}.html", "manifest.json"}
    assert CHANGED in (published / f"cx-annual-report-{YEAR}.html").read_text(encoding="utf-8")
    keys = layout_keys(published)
    assert keys[APPENDIX_A] == first_keys[APPENDIX_A] and keys[APPENDIX_B] == first_keys[APPENDIX_B]
    assert keys[ANNUAL] != first_keys[ANNUAL]
    # (that --force lays every PDF out again, to the same bytes: tests/slow/test_reruns.py)


# --------------------------------------------------------------------------- the preview


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    return processes.descendants(pid, zombies=False)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Preview:
    """``python -m pipeline preview`` in a child process, on a free port."""

    def __init__(self, built: dict) -> None:
        self.log = built["output"] / "preview.log"
        self.log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "preview", "--year", YEAR, "--raw", str(built["raw"]),
             "--output", str(built["output"]), "--max-reject-rate", "0.5", "--port", "0"],
            cwd=PROJECT_DIR, stdout=self.log_file, stderr=subprocess.STDOUT)
        wait_until(lambda: self.url() is not None or self.process.poll() is not None, 60,
                   lambda: f"the preview to print its address:\n{self.text()}")
        assert self.process.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def url(self) -> str | None:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", self.text())
        return m.group(0) if m else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


@pytest.fixture(scope="module")
def preview(built: dict):
    server = Preview(built)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(preview: Preview):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = a11y.launch_chromium(p)
        tab = chromium.new_page()
        yield tab
        chromium.close()


def test_the_preview_serves_on_the_loopback_only(preview: Preview) -> None:
    port = int(preview.url().rsplit(":", 1)[1].strip("/"))
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    ours = [local for _sl, local, _remote, state, *_ in listening if state == "0A" and int(local.split(":")[1], 16) == port]
    assert ours == ["0100007F:" + f"{port:04X}"]  # 127.0.0.1, nothing else


def test_a_saved_sentence_appears_without_a_reload_and_an_error_shows_in_the_page(
        built: dict, preview: Preview, page) -> None:
    from playwright.sync_api import expect

    highlights = built["narrative"] / "highlights.md"
    highlights.write_text(f"{FIRST}\n", encoding="utf-8")
    page.goto(preview.url())
    page.get_by_role("link", name=re.compile("Annual Report 2024")).click()
    expect(page.get_by_text(FIRST)).to_be_visible(timeout=10_000)
    page.evaluate("window.notReloaded = true")  # gone if the page is reloaded
    marker = page.evaluate("window.notReloaded")

    added = "A sentence the analyst has just saved."
    with highlights.open("a", encoding="utf-8") as f:
        f.write(f"\n{added}\n")
    saved = time.monotonic()
    expect(page.get_by_text(added)).to_be_visible(timeout=2_000)  # within 2 s of the save
    assert time.monotonic() - saved <= 2.0
    assert marker is True and page.evaluate("window.notReloaded") is None  # the page reloaded itself

    with highlights.open("a", encoding="utf-8") as f:
        f.write("\nServed {{ service_requests.totl | thousands }} requests.\n")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"narrative/{YEAR}/highlights.md, line 5", timeout=5_000)
    expect(alert).to_contain_text("unknown placeholder 'service_requests.totl' (the closest: service_requests.total)")
    assert preview.process.poll() is None  # the server keeps running

    highlights.write_text(f"{FIRST}\n\n{added}\n", encoding="utf-8")  # the fix
    expect(page.get_by_text(added)).to_be_visible(timeout=5_000)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert "cx-annual-report" in page.url


def test_a_front_matter_error_names_its_line_in_the_page(built: dict, preview: Preview, page) -> None:
    from playwright.sync_api import expect

    page.goto(preview.url() + f"cx-annual-report-{YEAR}.html")
    front = built["narrative"] / "report.yaml"
    front.write_text("to: Committee\ntoo: typo\n", encoding="utf-8")
    try:
        expect(page.get_by_role("alert")).to_contain_text(f"narrative/{YEAR}/report.yaml:2", timeout=5_000)
    finally:
        front.unlink()
    expect(page.get_by_role("alert")).to_have_count(0, timeout=5_000)


def test_ctrl_c_in_a_rebuild_stops_everything(built: dict, preview: Preview) -> None:
    """A new file under RAW makes the preview rebuild in a child process; Ctrl-C then stops the
    preview, the rebuild and anything it started."""
    note = built["raw"] / YEAR / "notes.txt"
    note.write_text("not an extract\n", encoding="utf-8")
    pid = preview.process.pid
    seen: set[int] = set()

    def rebuilding() -> bool:
        seen.update(descendants(pid))
        return bool(seen) and "rebuilding" in preview.text()

    wait_until(rebuilding, 20, lambda: f"a rebuild to start:\n{preview.text()}")
    os.kill(pid, signal.SIGINT)
    assert preview.process.wait(timeout=15) == 0, preview.text()
    wait_until(lambda: not any(alive(p) for p in seen), 10,
               lambda: f"the rebuild's processes to exit: {sorted(p for p in seen if alive(p))}")
    assert "preview stopped" in preview.text()
    note.unlink()
