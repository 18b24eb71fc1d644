"""dbt's child process (pipeline/dbt_process.py): the compiled Jinja kept between runs."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from pipeline import dbt_process


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """Jinja's compile step keeping its code in tmp_path/code (restored after the test); the
    sources Jinja itself compiled are listed."""
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting(env, source, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(source, str):
            compiled.append(source)
        return original(env, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    dbt_process.keep_compiled_templates(tmp_path / "code")  # patches the class: monkeypatch restores it
    return tmp_path / "code", compiled


def test_a_source_is_compiled_once_and_its_code_read_back(kept: tuple[Path, list[str]]) -> None:
    folder, compiled = kept
    source = "{% for x in xs %}{{ x * 2 }},{% endfor %}"
    first = jinja2.Environment().from_string(source).render(xs=[1, 2])
    again = jinja2.Environment().from_string(source).render(xs=[3])  # a new environment: as dbt makes one per node
    assert (first, again) == ("2,4,", "6,")
    assert compiled == [source]  # the second came from the kept code
    assert len(list(folder.iterdir())) == 1


def test_settings_that_change_the_code_are_kept_apart(kept: tuple[Path, list[str]]) -> None:
    folder, compiled = kept
    source = "{% if x %}\n  yes\n{% endif %}"
    plain = jinja2.Environment().from_string(source).render(x=True)
    trimmed = jinja2.Environment(trim_blocks=True, lstrip_blocks=True).from_string(source).render(x=True)
    other_syntax = jinja2.Environment(block_start_string="<%", block_end_string="%>").from_string(source).render(x=True)
    with_ext = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(source).render(x=True)
    assert (plain, trimmed) == ("\n  yes\n", "  yes\n")
    assert other_syntax == source  # its blocks are <% %>: the source is text
    assert with_ext == plain
    assert len(compiled) == 4 and len(list(folder.iterdir())) == 4  # four settings, four kept codes


def test_an_unreadable_kept_file_is_compiled_again(kept: tuple[Path, list[str]]) -> None:
    folder, compiled = kept
    jinja2.Environment().from_string("{{ 1 + 1 }}").render()
    (kept_file,) = folder.iterdir()
    kept_file.write_bytes(b"not marshal data")
    assert jinja2.Environment().from_string("{{ 1 + 1 }}").render() == "2"
    assert len(compiled) == 2
    assert jinja2.Environment().from_string("{{ 1 + 1 }}").render() == "2"  # replaced: read back now
    assert len(compiled) == 2


def test_raw_compiles_are_not_kept(kept: tuple[Path, list[str]]) -> None:
    folder, compiled = kept
    assert "def root" in jinja2.Environment().compile("{{ x }}", raw=True)
    assert not folder.exists() or not list(folder.iterdir())


def test_a_folder_that_cannot_be_written_only_loses_the_speed_up(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jinja2.Environment, "compile", jinja2.Environment.compile)  # restored after the test
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    dbt_process.keep_compiled_templates(blocker / "code")  # cannot be made: nothing is kept
    assert jinja2.Environment().from_string("{{ 2 * 3 }}").render() == "6"
    folder = tmp_path / "code"
    dbt_process.keep_compiled_templates(folder)

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dbt_process.tempfile, "NamedTemporaryFile", full_disk)
    assert jinja2.Environment().from_string("{{ 3 * 3 }}").render() == "9"  # compiled, not kept
    assert list(folder.iterdir()) == []
