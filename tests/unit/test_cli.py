"""The CLI's checks before any work: arguments, the raw folder, the output folder, help texts.
None of these runs the loader or dbt."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.contract import DEMO_MARKER


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_month_that_is_no_month_stops_before_any_work(tmp_path: Path, capsys) -> None:
    code, text = run(capsys, "bia", "--month", "2024-13", "--output", str(tmp_path / "out"))
    assert code == 2
    assert "'2024-13' is not a month: write it as YYYY-MM, e.g. 2024-07." in text
    assert not (tmp_path / "out").exists()


def test_a_year_outside_the_range_stops_before_any_work(tmp_path: Path, capsys) -> None:
    code, text = run(capsys, "report", "--year", "99", "--output", str(tmp_path / "out"))
    assert code == 2 and "99 is not in the range 2000<=x<=2100" in text
    assert not (tmp_path / "out").exists()


def test_a_raw_folder_that_does_not_exist_is_named(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "extracts-typo"
    code, text = run(capsys, "report", "--year", "2024", "--raw", str(missing), "--output", str(tmp_path / "o"))
    assert code == 2
    assert f"error: RAW folder not found: {missing}." in text
    assert not missing.exists()  # no demo data written into a mistyped path


def test_a_raw_folder_without_extracts_gets_no_demo_data(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw"
    (raw / "2024").mkdir(parents=True)
    (raw / "2024" / "notes.csv").write_text("not an extract\n", encoding="utf-8")
    code, text = run(capsys, "load", "--raw", str(raw), "--output", str(tmp_path / "o"))
    assert code == 2
    # what it found, with the reason it is not read, then what is expected
    assert (f"{raw} holds no extracts. It holds 2024/notes.csv (its name or type is not an extract's: a year "
            "folder holds interactions*, service_requests* and kb_views* files (.csv, .csv.gz or .parquet)). "
            "Expected raw/<YEAR>/interactions*") in " ".join(text.split())
    assert "`make demo-data` makes the synthetic demo data set." in text
    assert sorted(p.name for p in raw.rglob("*")) == ["2024", "notes.csv"]


def test_demo_files_and_other_extracts_never_mix(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw"
    (raw / "2024").mkdir(parents=True)
    demo = raw / "2024" / "kb_views_2024.csv"
    demo.write_text("date,article_id,article_title,views\n2024-01-01,A1,Tax,1\n", encoding="utf-8")
    digest = hashlib.sha256(demo.read_bytes()).hexdigest()
    (raw / DEMO_MARKER).write_text(f"# DEMO DATA\n\n```text\n{digest}  2024/kb_views_2024.csv\n```\n",
                                   encoding="utf-8")
    (raw / "2024" / "service_requests_real.csv").write_text("sr_id\n", encoding="utf-8")
    code, text = run(capsys, "load", "--raw", str(raw), "--output", str(tmp_path / "o"))
    assert code == 2
    assert "holds the synthetic demo data set and other extracts: 2024/service_requests_real.csv." in text
    # a demo file changed since it was generated is no longer demo data either
    demo.write_text("date,article_id,article_title,views\n2024-01-01,A1,Tax,2\n", encoding="utf-8")
    code, text = run(capsys, "load", "--raw", str(raw), "--output", str(tmp_path / "o"))
    assert "other extracts: 2024/kb_views_2024.csv, 2024/service_requests_real.csv." in text


def test_demo_remove_deletes_only_unchanged_demo_files(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw"
    (raw / "2024").mkdir(parents=True)
    kept, gone = raw / "2024" / "kb_views_2024.csv", raw / "2024" / "interactions_2024.csv"
    for path in (kept, gone):
        path.write_text("generated\n", encoding="utf-8")
    digest = hashlib.sha256(b"generated\n").hexdigest()
    (raw / DEMO_MARKER).write_text(
        f"```text\n{digest}  2024/interactions_2024.csv\n{digest}  2024/kb_views_2024.csv\n```\n",
        encoding="utf-8")
    kept.write_text("the analyst's own rows\n", encoding="utf-8")
    code, text = run(capsys, "demo-data", "--remove", "--raw", str(raw))
    assert code == 0
    assert "removed 1 demo file(s)" in text and "kept 2024/kb_views_2024.csv (changed since generated)" in text
    assert not gone.exists() and kept.read_text(encoding="utf-8") == "the analyst's own rows\n"


def test_output_that_is_a_file_is_one_message(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw"
    (raw / "2024").mkdir(parents=True)
    (raw / "2024" / "kb_views_2024.csv").write_text("date,article_id,article_title,views\n", encoding="utf-8")
    output = tmp_path / "output"
    output.write_text("a file\n", encoding="utf-8")
    code, text = run(capsys, "load", "--raw", str(raw), "--output", str(output))
    assert code == 1
    assert text == f"error: OUTPUT {output} is a file, not a folder: give a folder (it is created if missing).\n"


def test_help_says_what_a_user_needs(capsys) -> None:
    _, report_help = run(capsys, "report", "--help")
    assert "Demo data: when the raw folder holds no extract" in report_help
    _, send_help = run(capsys, "bia-send", "--help")
    assert "raw/reference/bia_contacts.csv" in send_help and "bia_name, email" in send_help
    for command in ("report", "load", "bia", "bia-send", "demo-data", "docs"):
        _, text = run(capsys, command, "--help")
        assert "issue" not in text.lower() and "\\b" not in text and ":func:" not in text


@pytest.mark.parametrize("flag", ["--version"])
def test_version_is_the_package_version(flag: str, capsys) -> None:
    from importlib.metadata import version

    code, text = run(capsys, flag)
    assert code == 0 and text.strip() == f"cx311, version {version('cx311')}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_per_stage_and_a_progress_line_at_most_every_ten_seconds(capsys) -> None:
    from pipeline.cli import Console

    clock = Clock()
    console = Console(log=True, clock=clock)
    with console.progress("BIA PDFs") as progress:
        console.started("BIA PDFs")
        for done, at in ((1, 103.0), (2, 109.9), (3, 110.0), (4, 115.0), (5, 119.9), (6, 120.0), (7, 125.0)):
            clock.now = at
            progress("some-bia", done, 79)
        clock.now = 140.0
        progress("last-bia", 79, 79)  # the end: the stage's own closing line says so
    console.ended("BIA PDFs", 40.04)
    # 10 s after the stage started (110.0), then 10 s after that line (120.0); none in between
    assert capsys.readouterr().err.splitlines() == [
        "BIA PDFs: started", "BIA PDFs 3/79", "BIA PDFs 6/79", "BIA PDFs: 40.0 s"]


def test_a_terminal_keeps_its_bar_and_no_start_lines(capsys) -> None:
    from pipeline.cli import Console

    console = Console(log=False)
    assert console.timed("render", lambda: 3) == 3
    console.started("BIA PDFs")
    console.ended("BIA PDFs", 2.0)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("render: ") and lines[0].endswith(" s")


def test_quiet_says_nothing_even_in_a_log(capsys) -> None:
    from pipeline.cli import Console

    console = Console(quiet=True, log=True)
    console.timed("load", lambda: None)
    with console.progress("load") as progress:
        assert progress is None
    assert capsys.readouterr().err == ""


def test_a_command_logs_its_stage_start_when_stderr_is_not_a_terminal(tmp_path: Path, capsys) -> None:
    # pytest captures stderr (not a terminal): the demo data stage says when it starts and ends
    code, text = run(capsys, "demo-data", "--raw", str(tmp_path / "raw"), "--scale", "0.0002")
    lines = text.splitlines()
    assert code == 0 and lines[0] == "demo data: started"
    assert re.fullmatch(r"demo data: \d+\.\d s", lines[1]) and lines[2].startswith("wrote demo data to ")


def test_calling_first_calls_once_before_the_first_step() -> None:
    from pipeline.cli import calling_first

    seen: list[object] = []
    step = calling_first(lambda: seen.append("first"), lambda item, done, total: seen.append((item, done, total)))
    step("seed_a", 1, 3)
    step("model_b", 2, 3)
    # "first" once, before the first step; the steps themselves passed on unchanged
    assert seen == ["first", ("seed_a", 1, 3), ("model_b", 2, 3)]
    # with no progress to pass on (--quiet) the first step still calls it
    quiet: list[str] = []
    step = calling_first(lambda: quiet.append("first"), None)
    step("seed_a", 1, 3)
    step("model_b", 2, 3)
    assert quiet == ["first"]
    # nothing to call: the progress itself
    progress = print
    assert calling_first(None, progress) is progress
