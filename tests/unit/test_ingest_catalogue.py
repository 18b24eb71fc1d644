"""The bad-input catalogue of docs/data-contract.md, one test per row (the ids are the
catalogue's case names).

Every case that loads puts its files in one shared raw folder, loaded once (the ids in each
file are the case's own, so no two cases share a row). To keep the unit layer fast, the rows of
the cases that do not need a file of their own (``alone``) are appended to one file per kind
(the lines a case expects are those of its own file, shifted); every case that fails the run is
loaded alone. For each file loaded: rows read = loaded + rejected + collapsed, exactly.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.contract import FIELD_MAX_BYTES
from pipeline.errors import CxError
from pipeline.ingest import LoadError, LoadSummary, load
from tests.unit.test_ingest_support import HEADERS, parquet, row, text

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"
MIB = FIELD_MAX_BYTES
OD_A = ("Creation Date,Status,First 3 Chars of Postal Code,Intersection Street 1,"
        "Intersection Street 2,Ward,Service Request Type,Division,Section\n"
        "2024-01-02 08:15:30.0000000,Completed,M6H,Dundas St W,Lansdowne Ave,"
        "Davenport (09),Road - Pot hole,Transportation Services,Bâtiment\n")


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, bytes]  # path in the raw folder -> content; the first is the one checked
    error: str = ""  # a file problem: the LoadError says this
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, reason)
    lines: list[int] | None = None  # the lines of the rows loaded from the file
    values: tuple[str, list] | None = None  # (SQL expression, its value per loaded row)
    audit: tuple | None = None  # (encoding, read, loaded, rejected, collapsed)
    note: str = ""  # a note of the load summary says this
    rate: float = 1.0  # max_reject_rate
    alone: bool = False  # the file is loaded as it is (else its rows join a file of the same kind)


def i(name: str, rows: list[str], **kw) -> dict[str, bytes]:
    """An interactions CSV file named after the case."""
    return {f"2024/interactions_{name}.csv": text("interactions", rows, **kw).encode()}


def ir(name: str, n: int = 1, **values: str) -> str:
    return row("interactions", f"{name}-{n}", **values)


def sr(name: str, rows: list[str]) -> dict[str, bytes]:
    return {f"2024/service_requests_{name}.csv": text("service_requests", rows).encode()}


def srr(name: str, n: int = 1, **values: str) -> str:
    return row("service_requests", f"{name}-{n}", **values)


def kb(name: str, rows: list[str]) -> dict[str, bytes]:
    return {f"2024/kb_views_{name}.csv": text("kb_views", rows).encode()}


def kbr(name: str, n: int = 1, **values: str) -> str:
    return row("kb_views", f"{name}-{n}", **values)


def one_bad(name: str, reason: str, column: str, **values: str) -> Case:
    """A file whose second row has one bad value (of an interaction unless the column says)."""
    if column in ("status", "closed_at", "latitude", "updated_at"):
        return Case(name, sr(name, [srr(name), srr(name, 2, **values)]),
                    rejects=[(3, column, reason)], lines=[2])
    if column in ("date", "views"):
        return Case(name, kb(name, [kbr(name), kbr(name, 2, **values)]),
                    rejects=[(3, column, reason)], lines=[2])
    return Case(name, i(name, [ir(name), ir(name, 2, **values)]),
                rejects=[(3, column, reason)], lines=[2])


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def broken_utf8(name: str, bom: bool, accent: bool) -> dict[str, bytes]:
    rows = [ir(name, 1, topic="Café" if accent else "Cafe"), ir(name, 2, topic="B\x00d"),
            ir(name, 3, topic="Crème" if accent else "Creme")]
    data = text("interactions", rows).encode().replace(b"B\x00d", b"B\xe9d")
    return {f"2024/interactions_{name}.csv": (codecs.BOM_UTF8 if bom else b"") + data}


N = "x"  # the id of the rows of a file problem's file
CASES = [
    # ------------------------------------------------------------ the rows of a CSV file
    Case("quoted_newline", i("quoted_newline", [ir("quoted_newline", topic='"a\nb"'),
                                                 ir("quoted_newline", 2, channel="fax")]),
         rejects=[(4, "channel", "unknown channel")], lines=[2], values=("topic", ["a\nb"])),
    Case("quoted_crlf_newline", i("quoted_crlf_newline", [ir("quoted_crlf_newline", topic='"a\r\nb"'),
                                                           ir("quoted_crlf_newline", 2)], end="\r\n"),
         lines=[2, 4], values=("topic", ["a\r\nb", None])),
    Case("blank_lines", i("blank_lines", [ir("blank_lines"), "", "", ir("blank_lines", 2)]),
         lines=[2, 5]),
    Case("whitespace_line", i("whitespace_line", [ir("whitespace_line"), "   ", ir("whitespace_line", 2)]),
         lines=[2, 4]),
    Case("crlf_line_endings", i("crlf_line_endings", [ir("crlf_line_endings"), ir("crlf_line_endings", 2)],
                                end="\r\n"), lines=[2, 3], values=("language", [None, None])),
    Case("cr_line_endings", i("cr_line_endings", [ir("cr_line_endings"), ir("cr_line_endings", 2)], end="\r"),
         lines=[2, 3]),
    Case("no_final_newline", i("no_final_newline", [ir("no_final_newline"), ir("no_final_newline", 2)],
                               final=False), lines=[2, 3]),
    Case("doubled_quotes", i("doubled_quotes", [ir("doubled_quotes", topic='"say ""hi"""')]),
         values=("topic", ['say "hi"'])),
    Case("text_after_closing_quote", i("text_after_closing_quote",
                                       [ir("text_after_closing_quote", topic='"ab"c')]),
         values=("topic", ["abc"])),
    Case("stray_quote", i("stray_quote", [ir("stray_quote", topic='ab"c')]), values=("topic", ['ab"c'])),
    Case("too_few_fields", i("too_few_fields", [ir("too_few_fields"),
                                                "too_few_fields-2,2024-07-16 15:04:05,email,general_inquiry"]),
         rejects=[(3, "(row)", "4 fields, expected 12")], lines=[2]),
    Case("too_many_fields", i("too_many_fields", [ir("too_many_fields"), ir("too_many_fields", 2) + ",x,y"]),
         rejects=[(3, "(row)", "14 fields, expected 12")], lines=[2]),
    Case("field_too_long", i("field_too_long", [ir("field_too_long"), ir("field_too_long", 2, topic="x" * (MIB + 1)),
                                                ir("field_too_long", 3)]),
         rejects=[(3, "topic", "field too long")], lines=[2, 4]),
    Case("field_at_limit", i("field_at_limit", [ir("field_at_limit", topic="x" * MIB)]),
         values=("length(topic)", [MIB])),
    Case("long_field_on_last_line", i("long_field_on_last_line",
                                      [ir("long_field_on_last_line"),
                                       ir("long_field_on_last_line", 2, topic="x" * (3 * MIB))], final=False),
         rejects=[(3, "topic", "field too long")], audit=("utf-8", 2, 1, 1, 0)),
    Case("invalid_utf8_byte", broken_utf8("invalid_utf8_byte", bom=False, accent=True),
         rejects=[(3, "topic", "invalid UTF-8 at byte 2 of the value")],
         values=("topic", ["Café", "Crème"]), audit=("utf-8", 3, 2, 1, 0)),
    Case("utf8_bom", {"2024/interactions_utf8_bom.csv": codecs.BOM_UTF8 + text(
        "interactions", [ir("utf8_bom", topic="Café")]).encode()},
         values=("topic", ["Café"]), audit=("utf-8-sig", 1, 1, 0, 0)),
    Case("windows_1252", {"2024/interactions_windows_1252.csv": text(
        "interactions", [ir("windows_1252", topic="Café “Centre”")]).encode("cp1252")},
         values=("topic", ["Café “Centre”"]), audit=("cp1252", 1, 1, 0, 0), note="read as Windows-1252"),
    Case("bom_with_invalid_byte", broken_utf8("bom_with_invalid_byte", bom=True, accent=False),
         rejects=[(3, "topic", "invalid UTF-8 at byte 2 of the value")], audit=("utf-8-sig", 3, 2, 1, 0)),
    Case("nul_character", i("nul_character", [ir("nul_character"), ir("nul_character", 2, topic="a\x00b")]),
         rejects=[(3, "topic", "NUL character")], lines=[2]),
    Case("exact_duplicate_row", i("exact_duplicate_row", [ir("exact_duplicate_row")] * 2),
         lines=[2], audit=("utf-8", 2, 1, 0, 1), alone=True),
    Case("gzip_csv", {"2024/interactions_gzip_csv.csv.gz": gzip.compress(
        text("interactions", [ir("gzip_csv")]).encode())}, lines=[2]),
    Case("open_data_zip", {"open_data/open_data_zip.zip": zipped({"sr.csv": OD_A.encode("cp1252")})},
         lines=[2], audit=("cp1252", 1, 1, 0, 0)),
    # ------------------------------------------------------------ values
    one_bad("unparseable_timestamp", "unparseable timestamp", "started_at", started_at="not a time"),
    one_bad("spring_forward_gap", "unparseable timestamp", "started_at", started_at="2024-03-10 02:30:00"),
    one_bad("implausible_future_date", "implausible date", "started_at", started_at="2099-01-01 00:00:00"),
    one_bad("implausible_year_9999", "implausible date", "started_at", started_at="9999-12-31 23:59:59"),
    one_bad("implausible_old_date", "implausible date", "started_at", started_at="1900-01-01 00:00:00"),
    one_bad("implausible_closed_at", "implausible date", "closed_at", closed_at="2099-01-01 00:00:00"),
    one_bad("unparseable_updated_at", "unparseable timestamp", "updated_at", updated_at="yesterday"),
    one_bad("implausible_updated_at", "implausible date", "updated_at", updated_at="1999-12-31 23:00:00"),
    one_bad("implausible_kb_date", "implausible date", "date", date="1999-12-31"),
    one_bad("implausible_duration", "implausible duration", "queue_seconds", channel="phone",
            outcome="answered", queue_seconds="2000000000", handle_seconds="60"),
    Case("one_day_duration", i("one_day_duration", [ir("one_day_duration", handle_seconds="86400"),
                                                    ir("one_day_duration", 2, handle_seconds="86401")]),
         rejects=[(3, "handle_seconds", "implausible duration")], lines=[2]),
    one_bad("unknown_channel", "unknown channel", "channel", channel="fax"),
    one_bad("unknown_interaction_type", "unknown interaction type", "interaction_type",
            interaction_type="complaint"),
    one_bad("unknown_outcome", "unknown outcome", "outcome", channel="phone", outcome="hung_up",
            queue_seconds="1", handle_seconds="1"),
    one_bad("unknown_status", "unknown status", "status", status="Reopened"),
    one_bad("negative_seconds", "negative seconds", "queue_seconds", queue_seconds="-3"),
    one_bad("non_integer_seconds", "non-integer seconds", "queue_seconds", queue_seconds="1.5"),
    one_bad("invalid_boolean", "invalid boolean", "transferred", transferred="maybe"),
    one_bad("required_value_missing", "required value missing", "interaction_type", interaction_type=""),
    one_bad("conditionally_required", "required value missing", "outcome", channel="phone"),
    one_bad("closed_before_created", "closed before created", "closed_at",
            closed_at="2024-07-15 00:00:00"),
    one_bad("invalid_coordinate", "invalid coordinate", "latitude", latitude="95"),
    one_bad("unparseable_date", "unparseable date", "date", date="2024-07-32"),
    one_bad("negative_count", "negative count", "views", views="-1"),
    # ------------------------------------------------------------ ignored, with a note
    Case("extra_column", i("extra_column", [ir("extra_column") + ",Zelda"], header=HEADERS["interactions"]
                           + ",caller_name"),
         lines=[2], note="1 column(s) not in the contract, ignored: 'caller_name'"),
    Case("duplicate_column", i("duplicate_column", [ir("duplicate_column") + ",other"],
                               header=HEADERS["interactions"] + ",Topic "),
         values=("topic", [None]), note="ignored because an earlier column has the same name: 'Topic '"),
    Case("control_character_in_header", i("control_character_in_header", [ir("control_character_in_header", topic="T")],
                                          header=HEADERS["interactions"].replace("topic", "topic\x00")),
         values=("topic", ["T"])),
    Case("unnamed_column", i("unnamed_column", [ir("unnamed_column") + ","], header=HEADERS["interactions"] + ","),
         lines=[2], note="ignored: column 13 (no name)"),
    Case("misnamed_file", {"2024/calls_2024.csv": b"a,b\n1,2\n"},
         note="2024/calls_2024.csv: ignored: its name or type is not an extract's"),
    Case("zip_in_year_folder", {"2024/interactions_zip.zip": zipped({"interactions.csv": b"a\n"})},
         note="2024/interactions_zip.zip: ignored: a zip archive in a year folder is not read"),
    Case("text_file_in_year_folder", {"2024/notes.txt": b"x"}, note="2024/notes.txt: ignored"),
    Case("file_outside_year_folder", {"misc/interactions.csv": b"x"},
         note="misc/interactions.csv: ignored: not in a folder that is read"),
    Case("parquet_list_column", {"2024/interactions_parquet_list_column.parquet": parquet({
        "interaction_id": ["parquet_list_column-1"], "started_at": ["2024-07-16 15:04:05"],
        "channel": ["email"], "interaction_type": ["general_inquiry"], "tags": [["a", "b"]]})},
         lines=[2], note="ignored: 'tags'"),
    # ------------------------------------------------------------ file problems
    Case("empty_file", {"2024/interactions.csv": b""}, error="the file is empty"),
    Case("blank_file", {"2024/interactions.csv": b"\n  \n"}, error="the file is empty"),
    Case("header_only", {"2024/interactions.csv": (HEADERS["interactions"] + "\n\n").encode()},
         error="no data rows"),
    Case("binary_data", {"2024/interactions.csv": bytes(range(256)) * 20},
         error="it is not a CSV file (it contains binary data)"),
    Case("html_page", {"2024/interactions.csv": b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"},
         error="HTML/XML page"),
    Case("utf16_text", {"2024/interactions.csv": text("interactions", [ir(N)]).encode("utf-16")},
         error="it is UTF-16 (or UTF-32) text"),
    Case("undefined_cp1252_byte", {"2024/interactions.csv": text("interactions", [ir(N, topic="Caf\x81")])
                                   .encode("latin-1")}, error="neither UTF-8 nor Windows-1252 (byte 0x81"),
    Case("invalid_utf8_header", {"2024/interactions.csv": HEADERS["interactions"].encode() + b",t\xffpic\n"
                                 + (ir(N, topic="Café") + ",x\n").encode()},
         error="its header (line 1) is not valid UTF-8"),
    Case("missing_required_column", {"2024/interactions.csv": b"interaction_id,channel\nI1,email\n"},
         error="'started_at', 'interaction_type' are missing"),
    Case("open_data_unknown_header", {"open_data/x.csv": b"Date,Type\n2024-01-01,Noise\n"},
         error="Open Data header variant"),
    Case("unterminated_quote", i(N, [ir(N), ir(N, 2, topic='"open'), ir(N, 3)]),
         error="the quoted field that starts on line 3 is never closed"),
    Case("not_parquet", {"2024/interactions.parquet": b"id,started_at\n1,2\n"}, error="not a Parquet file"),
    Case("empty_parquet", {"2024/interactions.parquet": b""}, error="the file is empty"),
    Case("corrupt_gzip", {"2024/interactions.csv.gz": b"not gzip at all"}, error="not a readable gzip"),
    Case("corrupt_zip", {"open_data/x.zip": b"not a zip"}, error="not a valid zip archive"),
    Case("zip_with_two_csvs", {"open_data/x.zip": zipped({"a.csv": b"a\n", "b.csv": b"b\n"})},
         error="exactly one CSV file, it contains 2"),
    Case("nested_parquet_column", {"2024/interactions.parquet": parquet({
        "interaction_id": ["I1"], "started_at": ["2024-07-16 15:04:05"], "channel": ["email"],
        "interaction_type": ["general_inquiry"], "topic": pa.array([["a"]])})},
         error="column 'topic' holds VARCHAR[] values"),
    Case("too_many_rejects", i(N, [ir(N), ir(N, 2, channel="fax")]), rate=0.01,
         error="1 of its 2 rows (50.0%) were rejected, more than the allowed 1.0%"),
]


IRREGULAR = {"whitespace_line", "text_after_closing_quote", "stray_quote"}  # the exact parser's


@dataclass
class Loaded:
    """The shared load: its summary, warehouse, and where each merged case's rows went."""

    summary: LoadSummary
    con: duckdb.DuckDBPyConnection
    placed: dict[str, tuple[str, int, int]]  # case -> (file, line shift, lines it spans)


def _merged(case: Case) -> tuple[str, str] | None:
    """(file it joins, its rows' text) for a case whose rows can join a file of its kind."""
    if case.alone or case.error or case.audit or len(case.files) != 1:
        return None
    rel, data = next(iter(case.files.items()))
    m = re.fullmatch(rf"2024/(interactions|service_requests|kb_views)_{case.name}\.csv", rel)
    body = data.decode("utf-8", "replace")
    if not m or "\r" in body or not body.endswith("\n") or not body.startswith(HEADERS[m[1]] + "\n"):
        return None
    group = "irregular" if case.name in IRREGULAR else "rows"
    return f"2024/{m[1]}_{group}.csv", body.split("\n", 1)[1]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    raw = tmp_path_factory.mktemp("catalogue") / "raw"
    merged: dict[str, list[str]] = {}
    placed = {}
    for case in CASES:
        joins = _merged(case)
        if joins:
            rel, rows = joins
            entity = rel.split("/")[1].rsplit("_", 1)[0]
            parts = merged.setdefault(rel, [HEADERS[entity] + "\n"])
            first = sum(part.count("\n") for part in parts) + 1
            placed[case.name] = (rel, first - 2, rows.count("\n"))
            parts.append(rows)
        elif not case.error:
            _write(raw, case.files)
    _write(raw, {rel: "".join(parts).encode() for rel, parts in merged.items()})
    db = raw.parent / "warehouse.duckdb"
    summary = load(raw, db, max_reject_rate=1.0)
    con = duckdb.connect(str(db), read_only=True)
    yield Loaded(summary, con, placed)
    con.close()


def _write(raw: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_bytes(data)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_catalogue(case: Case, shared: Loaded, tmp_path: Path) -> None:
    if case.error:
        _expect_error(case, tmp_path)
        return
    if case.note:
        assert any(case.note in str(n) for n in shared.summary.notes), shared.summary.notes
    rel, shift, span = shared.placed.get(case.name, (next(iter(case.files)), 0, 1 << 40))
    q = shared.con.execute
    audit = q("SELECT encoding, rows_read, rows_loaded, rows_rejected, duplicates_collapsed, entity "
              "FROM raw.load_audit WHERE source_file = ?", [rel]).fetchall()
    if not audit:  # an ignored file
        assert case.note and not case.rejects and case.lines is None
        return
    encoding, read, loaded, rejected, collapsed, entity = audit[0]
    assert read == loaded + rejected + collapsed
    assert q(f"SELECT count(*) FROM raw.{entity} WHERE _source_file = ?", [rel]).fetchone() == (loaded,)
    assert q("SELECT count(*) FROM raw.rejects WHERE source_file = ?", [rel]).fetchone() == (rejected,)
    within = [rel, shift + 2, shift + 2 + span]  # the case's lines: from its first row on
    rows = q(f"SELECT _source_line - {shift} FROM raw.{entity} WHERE _source_file = ? "
             "AND _source_line >= ? AND _source_line < ? ORDER BY 1", within).fetchall()
    rejects = q(f'SELECT line - {shift}, "column", reason FROM raw.rejects WHERE source_file = ? '
                "AND line >= ? AND line < ? ORDER BY line", within).fetchall()
    assert rejects == case.rejects
    if case.lines is not None:
        assert [r[0] for r in rows] == case.lines
    if case.values is not None:
        expr, expected = case.values
        got = q(f"SELECT {expr} FROM raw.{entity} WHERE _source_file = ? AND _source_line >= ? "
                "AND _source_line < ? ORDER BY _source_line", within).fetchall()
        assert [r[0] for r in got] == expected
    if case.audit is not None:
        assert (encoding, read, loaded, rejected, collapsed) == case.audit


def _expect_error(case: Case, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _write(raw, case.files)
    with pytest.raises(LoadError) as e:
        load(raw, Path(":memory:"), max_reject_rate=case.rate)  # nothing to keep
    message = str(e.value)
    assert isinstance(e.value, CxError)
    assert case.error in message
    assert next(iter(case.files)) in message  # names the file
    assert "\n" not in message and message.endswith("Nothing from this run was loaded.")


BEYOND = "### Beyond a file's contents"


def test_catalogue_lists_every_case() -> None:
    """The table in docs/data-contract.md and the cases above name the same cases."""
    section = DOC.read_text(encoding="utf-8").split("## Bad-input catalogue", 1)[1].split(BEYOND, 1)[0]
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(documented) == sorted(c.name for c in CASES)
    assert len(documented) == len(set(documented)) >= 40


def test_the_cases_beyond_a_files_contents_name_tests_that_exist() -> None:
    """The catalogue's second table (a copied folder, a changed reference file, a full disk, an
    unreadable file, a hostile narrative, a dropped mail server): every case names the tests
    that show it, as ``tests/<layer>/<module>.py::<test>``, and each such test exists."""
    section = DOC.read_text(encoding="utf-8").split(BEYOND, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \|(.*)\|\s*$", section, flags=re.MULTILINE)
    assert len(rows) >= 20 and len({name for name, _ in rows}) == len(rows)
    root = DOC.parents[1]
    for name, rest in rows:
        tests = re.findall(r"`(tests/[a-z_/]+\.py)::(test_[a-z0-9_]+)`", rest)
        assert tests, f"{name} names no test"
        for module, test in tests:
            source = (root / module).read_text(encoding="utf-8")
            assert re.search(rf"^def {test}\(", source, flags=re.MULTILINE), f"{name}: {module}::{test} is not there"
