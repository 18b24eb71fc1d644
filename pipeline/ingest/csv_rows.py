"""A CSV file's rows as an Arrow table: ``__line`` (the physical line the row starts on),
``__problem`` (``'column|reason'`` when the row is rejected before its values are looked at,
else null) and the wanted columns as text, ``col<index in the header>`` (``''`` for an empty
field; null on a rejected row).

Row problems found here: a row whose number of fields differs from the header's
(``"12 fields, expected 8"``, column ``(row)``); a value with a byte that is not UTF-8 in an
otherwise UTF-8 file (``"invalid UTF-8 at byte N of the value"``); a field longer than
``FIELD_MAX_BYTES`` (``"field too long"``). A record that holds no value (an empty line,
spaces only, or one empty quoted field) is not a row.

Two parsers give the same rows. The fast one is Arrow's multi-threaded CSV reader; it is used
when the scan of the bytes (:mod:`.csv_scan`) found nothing it could read differently (no stray
quote or text after a closing quote, no invalid UTF-8) and it is checked afterwards: the rows it
returns plus the rows it skipped (wrong number of fields: read again without threads, which
numbers them) must be exactly the records the scan found, whose line numbers it then takes.
Otherwise the exact one, Python's ``csv`` module (non-strict) row by row, reads the file (about
ten times slower).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .. import contract
from .checks import TOO_LONG
from .csv_files import CsvText
from .errors import file_error

LINE, PROBLEM = "__line", "__problem"  # never a contract column's name, even normalised
ROW = "(row)"  # the column of a problem with the whole row

BATCH = 65536
INVALID_UTF8 = re.compile("[\udc80-\udcff]")  # a byte that was not UTF-8 (surrogateescape)
CONTROL = re.compile("[\x00-\x1f\x7f]")


def read_header(text: CsvText) -> tuple[int, list[str]]:
    """(index of the header among the file's records, its field names): the first record that
    is not blank. LoadError when it is not valid UTF-8."""
    st = text.structure
    data = b""
    with text.open() as f, _field_limit():
        for i in range(len(st.starts)):
            data += f.read(max(0, int(st.ends[i]) - len(data)))
            raw = data[int(st.starts[i]):int(st.ends[i])].decode("utf-8", "surrogateescape")
            names = next(csv.reader(io.StringIO(raw, newline="")), [])
            if not _blank(names):
                break
        else:
            raise file_error(text.display, "the file is empty.")
    if INVALID_UTF8.search(raw):
        raise file_error(text.display, f"its header (line {st.lines[i]}) is not valid UTF-8.")
    return i, names


def read_rows(text: CsvText, header_at: int, header: list[str], wanted: list[int]) -> pa.Table:
    """The data rows (the records after the header) with the columns at ``wanted`` indices of
    ``header``, named ``col<index>`` (a header name may hold any character, even NUL)."""
    limit = contract.FIELD_MAX_BYTES
    names = [_label(name) for name in header]
    table = None
    if not text.bad_utf8 and text.structure.irregular == 0:
        table = _fast(text, header_at, names, wanted, limit)
    if table is None:
        table = _exact(text, names, wanted, limit)
    return table.rename_columns([LINE, PROBLEM, *(f"col{i}" for i in wanted)])


def _label(name: str) -> str:
    """A header name as the column of a reject: one line, at most 100 characters, no '|' (which
    separates column and reason)."""
    return CONTROL.sub(" ", name).replace("|", "/")[:100]


def _schema(n: int) -> pa.Schema:
    return pa.schema([(LINE, pa.int64()), (PROBLEM, pa.string())]
                     + [(f"c{i}", pa.string()) for i in range(n)])


def _fast(text: CsvText, header_at: int, names: list[str], wanted: list[int],
          limit: int) -> pa.Table | None:
    """Arrow's reader from the record after the header; None when its rows cannot be trusted
    (the exact parser then reads the file)."""
    st = text.structure
    lines = st.lines[header_at + 1:]
    if not len(lines):
        return _schema(len(wanted)).empty_table()
    long_rows = st.longest > limit  # then every column is read, to find the long fields
    offset, include = int(st.starts[header_at + 1]), list(range(len(names))) if long_rows else wanted
    got = _arrow(text, offset, len(names), include, threads=True)
    if got is not None and got[1]:  # rows with the wrong number of fields: where are they?
        got = None  # (free the first reading before the second)
        got = _arrow(text, offset, len(names), include, threads=False)
    if got is None:
        return None
    table, invalid = got
    keep = np.ones(len(lines), bool)
    bad_lines, bad_problems = [], []
    for number, fields, raw in invalid:
        if number is None or not 0 < number <= len(lines):
            return None
        keep[number - 1] = False
        if not _blank(next(csv.reader(io.StringIO(raw, newline="")), [])):
            bad_lines.append(int(lines[number - 1]))
            bad_problems.append(_count_problem(fields, len(names)))
    if table.num_rows != int(keep.sum()):
        return None
    problems = _too_long(table, names, limit) if long_rows else pa.nulls(table.num_rows, pa.string())
    columns = [table.column(f"c{i}") for i in wanted]
    if long_rows:
        columns = [pc.if_else(pc.is_null(problems), c, pa.scalar(None, pa.string())) for c in columns]
    good = pa.Table.from_arrays([pa.array(lines[keep], pa.int64()), problems, *columns],
                                schema=_schema(len(wanted)))
    return pa.concat_tables([good, _rejected(bad_lines, bad_problems, len(wanted))])


Invalid = list[tuple[int | None, int, str]]  # (record number from 1, fields, text) per bad row


def _arrow(text: CsvText, offset: int, n_fields: int, include: list[int],
           threads: bool) -> tuple[pa.Table, Invalid] | None:
    """The records from byte ``offset`` by Arrow's reader (None when it fails), and the rows
    it skipped for having the wrong number of fields (their number only without threads)."""
    block = max(1 << 22, 2 * text.structure.longest + 4096)
    if block >= 1 << 31:
        return None
    names = [f"c{i}" for i in range(n_fields)]
    invalid: Invalid = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    read = pa_csv.ReadOptions(column_names=names, use_threads=threads, block_size=block)
    parse = pa_csv.ParseOptions(delimiter=",", quote_char='"', double_quote=True,
                                escape_char=False, newlines_in_values=True,
                                ignore_empty_lines=True, invalid_row_handler=on_invalid)
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), include_columns=[names[i] for i in include],
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
        check_utf8=False,
    )
    try:
        with pa.input_stream(str(text.path), compression="gzip" if text.gzipped else None) as f:
            f.read(text.skip + offset)
            table = pa_csv.read_csv(f, read_options=read, parse_options=parse,
                                    convert_options=convert)
    except (pa.ArrowInvalid, OSError):
        return None
    return table, invalid


def _too_long(table: pa.Table, names: list[str], limit: int) -> pa.ChunkedArray:
    """'column|field too long' for the first field over ``limit`` bytes in a row, else null."""
    problems = pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    for i, name in enumerate(names):
        over = pc.greater(pc.binary_length(table.column(f"c{i}")), limit)
        problems = pc.if_else(pc.and_(pc.is_null(problems), over),
                              pa.scalar(f"{name}|{TOO_LONG}"), problems)
    return problems


def _rejected(lines: list[int], problems: list[str], n: int) -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array(lines, pa.int64()), pa.array(problems, pa.string())]
        + [pa.nulls(len(lines), pa.string()) for _ in range(n)],
        schema=_schema(n),
    )


def _count_problem(fields: int, expected: int) -> str:
    return f"{ROW}|{fields} field{'' if fields == 1 else 's'}, expected {expected}"


def _exact(text: CsvText, names: list[str], wanted: list[int], limit: int) -> pa.Table:
    """Python's csv module, row by row, from the start of the file."""
    pick = _picker(wanted)
    empty = (None,) * len(wanted)
    batches, lines, problems, rows = [], [], [], []
    with _field_limit(), text.open() as raw:
        for line, row in _records(io.TextIOWrapper(raw, "utf-8", "surrogateescape", newline="")):
            problem = _problem(row, names, text.bad_utf8, limit)
            lines.append(line)
            problems.append(problem)
            rows.append(empty if problem else pick(row))
            if len(rows) == BATCH:
                batches.append(_batch(lines, problems, rows, len(wanted)))
                lines, problems, rows = [], [], []
    batches.append(_batch(lines, problems, rows, len(wanted)))
    return pa.Table.from_batches(batches, schema=_schema(len(wanted)))


def _records(f: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its fields) of every data record: after the header, blank
    records left out."""
    reader = csv.reader(f, strict=False)
    start, header_seen = 1, False
    for row in reader:
        line, start = start, reader.line_num + 1
        if _blank(row):
            continue
        if header_seen:
            yield line, row
        header_seen = True


def _problem(row: list[str], names: list[str], bad_utf8: bool, limit: int) -> str | None:
    """'column|reason' for a row rejected before its values are read, else None."""
    if len(row) != len(names):
        return _count_problem(len(row), len(names))
    if bad_utf8:
        for name, value in zip(names, row, strict=True):
            bad = INVALID_UTF8.search(value)
            if bad:
                at = len(value[:bad.start()].encode("utf-8", "surrogateescape")) + 1
                return f"{name}|invalid UTF-8 at byte {at} of the value"
    if max(map(len, row)) * 4 > limit:  # a character is at most 4 bytes
        for name, value in zip(names, row, strict=True):
            if len(value.encode("utf-8", "surrogateescape")) > limit:
                return f"{name}|{TOO_LONG}"
    return None


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _picker(wanted: list[int]) -> Callable[[list[str]], tuple]:
    if len(wanted) == 1:
        return lambda row: (row[wanted[0]],)
    return itemgetter(*wanted) if wanted else (lambda row: ())


def _batch(lines: list[int], problems: list[str | None], rows: list[tuple],
           n: int) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [()] * n
    return pa.RecordBatch.from_arrays(
        [pa.array(lines, pa.int64()), pa.array(problems, pa.string())]
        + [pa.array(c, pa.string()) for c in columns],
        schema=_schema(n),
    )


@contextmanager
def _field_limit() -> Iterator[None]:
    """No field size limit in the csv module while reading (the limit is checked per row), and
    the module's previous limit afterwards (it is process-wide)."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)
