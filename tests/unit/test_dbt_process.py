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


def test_a_kept_file_that_cannot_be_put_in_place_leaves_no_half_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # the code is written to a temporary file, which the disk fills before it is renamed: the
    # template still renders, and the temporary file is removed, not left in the folder
    monkeypatch.setattr(jinja2.Environment, "compile", jinja2.Environment.compile)  # restored after the test
    folder = tmp_path / "code"
    dbt_process.keep_compiled_templates(folder)

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dbt_process.os, "replace", full_disk)
    assert jinja2.Environment().from_string("{{ 4 * 4 }}").render() == "16"
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------------------- dbt's events' messages
# event_message makes the message ParseDict would, by the message's constructor when it can.


@pytest.fixture
def parse_dict_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The messages ParseDict made (by type name) while the test ran."""
    from google.protobuf import json_format

    calls: list[str] = []
    original = json_format.ParseDict

    def counting(values, message, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(type(message).__name__)
        return original(values, message, *args, **kwargs)

    monkeypatch.setattr(json_format, "ParseDict", counting)
    return calls


def _bytes(message) -> bytes:  # type: ignore[no-untyped-def]
    return message.SerializeToString(deterministic=True)


def test_an_event_is_made_by_its_constructor_as_parse_dict_makes_it(parse_dict_calls: list[str]) -> None:
    from dbt.events import core_types_pb2
    from google.protobuf.json_format import ParseDict

    values = {"node_info": {"node_name": "mart_x", "unique_id": "model.cx311.mart_x", "node_status": "started",
                            "meta": {"owner": "cx"}},
              "description": "sql table model marts.mart_x", "index": 3, "total": 89}
    made = dbt_process.event_message(values, core_types_pb2.LogStartLine())
    assert parse_dict_calls == []  # the constructor took the dict as it is, nested message and map included
    assert _bytes(made) == _bytes(ParseDict(values, core_types_pb2.LogStartLine()))
    assert (made.node_info.node_name, made.index, dict(made.node_info.meta)) == ("mart_x", 3, {"owner": "cx"})


def test_the_event_info_time_stamp_is_read_as_parse_dict_reads_it(parse_dict_calls: list[str]) -> None:
    from dbt_common.events import types_pb2
    from google.protobuf.json_format import ParseDict

    values = {"info": {"name": "Note", "code": "Z050", "msg": "hello", "level": "info", "invocation_id": "abc",
                       "pid": 7, "thread": "MainThread", "ts": "2024-07-01T12:30:45.123456Z",
                       "extra": {"k": "v"}}}
    made = dbt_process.event_message(values, types_pb2.NoteMsg())
    assert parse_dict_calls == []
    assert _bytes(made) == _bytes(ParseDict(values, types_pb2.NoteMsg()))
    # 2024-07-01T12:30:45Z is 1,719,837,045 s after the epoch (19,905 days × 86,400 + 45,045 s)
    assert (made.info.ts.seconds, made.info.ts.nanos) == (1_719_837_045, 123_456_000)


def test_what_the_constructor_cannot_take_is_made_by_parse_dict(parse_dict_calls: list[str]) -> None:
    from dbt.events import core_types_pb2
    from google.protobuf.json_format import ParseDict

    # a time stamp as RFC 3339 text inside the result: only ParseDict converts it
    values = {"run_result": {"status": "success", "timing_info": [
        {"name": "compile", "started_at": "2024-07-01T12:00:00Z", "completed_at": "2024-07-01T12:00:01Z"}]}}
    made = dbt_process.event_message(values, core_types_pb2.NodeFinished())
    assert parse_dict_calls == ["NodeFinished"]
    assert _bytes(made) == _bytes(ParseDict(values, core_types_pb2.NodeFinished()))
    assert made.run_result.timing_info[0].completed_at.seconds - made.run_result.timing_info[0].started_at.seconds == 1


def test_a_wrong_field_raises_what_parse_dict_raises(parse_dict_calls: list[str]) -> None:
    from dbt_common.events import types_pb2
    from google.protobuf.json_format import ParseError

    with pytest.raises(ParseError, match="no_such_field"):
        dbt_process.event_message({"msg": "x", "no_such_field": 1}, types_pb2.Note())
    assert parse_dict_calls == ["Note"]


def test_dbt_makes_its_events_through_event_message(monkeypatch: pytest.MonkeyPatch,
                                                    parse_dict_calls: list[str]) -> None:
    from dbt_common.events import base_types
    from dbt_common.events.types import Note

    monkeypatch.setattr(base_types, "ParseDict", base_types.ParseDict)  # restored after the test
    dbt_process.build_events_directly()
    event = Note(msg="hello")
    message = base_types.msg_from_base_event(event)
    assert (event.msg, message.info.msg, message.info.name, message.data.msg) == ("hello", "hello", "Note", "hello")
    assert message.info.ts.seconds > 1_700_000_000  # now, read from dbt's RFC 3339 text
    assert parse_dict_calls == []
