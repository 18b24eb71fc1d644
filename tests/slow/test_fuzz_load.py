"""Fuzzing the loader with odd CSV files (``make test-all``; not in ``make test``).

Hypothesis writes folders of FILES files (EXAMPLES folders, a fixed seed: ``derandomize``), with
random entities, headers (shuffled, extra, duplicate or missing columns), values (valid, bad,
implausible, NUL, long), quoting (minimal, everywhere, none, stray quotes, text after a closing
quote, the odd unterminated quote), field counts, blank lines, line endings, encodings (UTF-8
with and without BOM, Windows-1252), invalid bytes and gzip. The field-length limit is lowered
to LIMIT bytes so that long fields are cheap.

The oracle is an independent reading of each file: Python's csv module on its bytes (decoded
as Latin-1: only ASCII quotes, commas and line breaks make the structure), which gives every
record and the line it starts on, and a prediction of the file problems (empty, binary, an
unterminated quote, an undefined Windows-1252 byte, a header that is not UTF-8, a required
column missing, no data rows). Each folder's predicted-loadable files are loaded in one
``load()`` (into one warehouse reused across examples), the others one by one. Then:

* a predicted file problem raises CxError, and nothing else raises anything;
* for every loaded file: rows read = the reference's data records = loaded + rejected +
  collapsed, the loaded and rejected rows are in the landing table and ``raw.rejects``, each at
  the line one of those records starts on (never two rows at one line), and the id of every
  loaded row is the id in the reference's record at that line.

A failure prints the file (repr of its bytes) besides Hypothesis's falsifying example.
"""

from __future__ import annotations

import atexit
import codecs
import csv
import gzip
import hashlib
import io
import random
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import contract
from pipeline.contract import ENTITIES
from pipeline.errors import CxError
from pipeline.ingest import csv_rows, load
from pipeline.ingest.staging import norm_header

EXAMPLES = 50
FILES = 40  # per example: 2,000 files a run
LIMIT = 160  # FIELD_MAX_BYTES while fuzzing
ID = {"interactions": "interaction_id", "service_requests": "sr_id", "kb_views": "article_id"}
CALLS = {"examples": 0, "fast": 0, "exact": 0, "files": 0, "problems": 0, "rejected": 0, "collapsed": 0}
DISTINCT: set[bytes] = set()  # the contents of the files written

# ---------------------------------------------------------------- values by kind
# Hypothesis draws each file's shape (Shape); its values come from a Random (drawing every value
# would overrun Hypothesis's budget for 40 files an example). The odd shapes are the highest
# draws, so that Hypothesis's first, simplest example is a folder of plain files.

ALPHABET = list("ab XZ,;\"'\n\r\té€😀-")
IDS = ["A1", "A2", "A3", "B,1", 'C"1', "Ü1", " A1", ""]
DAYS = [f"2024-07-{d:02d}" for d in range(1, 29)]
VALUES = {
    "ts": ["2024-07-16 15:04:05", "2024-07-16T15:04:05-04:00", "16/Jul/2024 03:04 PM", "2024-11-03 01:30:00",
           "2024-03-10 02:30:00", "not a time", "2099-01-01 00:00:00", "9999-12-31 23:59:59",
           "1900-01-01 00:00:00", "1999-12-31 23:59:59", ""] + [d + " 09:30:00" for d in DAYS],
    "date": [*DAYS, "2024-07-32", "1999-12-31", "2099-01-01", "", "x"],
    "seconds": ["0", "60", "86400", "86401", "2000000000", "-1", "1.5", "abc", ""],
    "count": ["0", "12", "-1", "1.5", "99999999999", ""],
    "bool": ["true", "N", "1", "maybe", ""],
    "coord": ["43.65", "-79.4", "95", "nan", ""],
    "channel": [*contract.CHANNELS, "Live Chat", "fax", ""],
    "itype": [*contract.INTERACTION_TYPES, "complaint", ""],
    "outcome": [*contract.OUTCOMES, "hung_up", ""],
    "status": ["New", "Closed", "In Progress", "Reopened", ""],
}
EXTRA_COLUMNS = ["caller_name", "Notes", "Channel ", "", "phone number"]


@dataclass
class Written:
    rel: str
    data: bytes


def _quote(value: str, mode: str) -> str:
    if mode == "raw":
        return value
    if mode == "always" or any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _value(rnd: random.Random, kind: str | None, is_id: bool) -> str:
    if rnd.randrange(40) == 0:  # a long field (over LIMIT bytes, or close)
        return rnd.choice("xé€") * rnd.randint(LIMIT // 4, LIMIT + 40)
    if is_id:
        return rnd.choice(IDS) if rnd.randrange(4) else "".join(rnd.choices(ALPHABET, k=rnd.randint(0, 6)))
    if kind in VALUES:
        return rnd.choice(VALUES[kind])
    return "".join(rnd.choices(ALPHABET, k=rnd.randint(0, 10)))


@dataclass(frozen=True)
class Shape:
    """What Hypothesis draws for a file; :func:`build` writes it."""

    index: int
    entity: str
    columns: tuple[tuple[str, str | None], ...]
    mode: str  # quoting: min | always | raw
    odd: tuple[int, ...]  # per row: 0-5 an oddity (see _odd_lines), else a plain row
    unterminated: bool
    end: str
    final_newline: bool
    encoding: str
    bad_bytes: bool
    gz: bool
    seed: int


@st.composite
def shapes(draw: st.DrawFn, index: int) -> Shape:
    entity = draw(st.sampled_from(sorted(ENTITIES)))
    columns = [(c.name, c.kind) for c in ENTITIES[entity]]
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    columns += [(name, None) for name in draw(st.lists(st.sampled_from(EXTRA_COLUMNS), max_size=2))]
    if draw(st.integers(0, 15)) == 15:  # a required column missing: a file problem
        columns.pop(draw(st.integers(0, len(columns) - 1)))
    mode = draw(st.sampled_from(["min"] * 6 + ["always"] * 2 + ["raw"]))
    n_rows = 0 if draw(st.integers(0, 30)) == 30 else draw(st.integers(1, 8))  # none: a file problem
    return Shape(
        index, entity, tuple(columns), mode,
        tuple(draw(st.lists(st.integers(0, 24), min_size=n_rows, max_size=n_rows))),
        unterminated=draw(st.integers(0, 25)) == 25,
        end=draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])), final_newline=draw(st.booleans()),
        encoding=draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252"])),
        bad_bytes=draw(st.integers(0, 9)) == 9, gz=draw(st.integers(0, 9)) == 9,
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def build(shape: Shape, example: int, salt: str) -> Written:
    """The file of ``shape``; its values come from a Random seeded by the shape's seed and the
    whole example's ``salt``, so that no two examples write the same files (Hypothesis reuses
    parts of earlier examples) and a replayed example writes the same ones."""
    rnd = random.Random(f"{salt}/{shape.index}/{shape.seed}")
    id_column = ID[shape.entity]
    lines = [",".join(_quote(name, shape.mode) for name, _ in shape.columns)]
    for odd in shape.odd:
        fields = [_quote(_value(rnd, kind, name == id_column), shape.mode) for name, kind in shape.columns]
        lines += [lines[-1]] if odd == 5 and len(lines) > 1 else _odd_lines(odd, fields, rnd)
    if shape.unterminated:
        lines.append('x,"never closed')
    text = shape.end.join(lines) + (shape.end if shape.final_newline else "")
    data = text.encode(shape.encoding, "replace")
    for _ in range(rnd.randint(1, 2) if shape.bad_bytes else 0):  # invalid or odd bytes
        at = rnd.randint(0, len(data))
        data = data[:at] + rnd.choice([b"\xe9", b"\xff", b"\x81", b"\xc3", b"\x00"]) + data[at:]
    rel = f"{2001 + shape.index % 20}/{shape.entity}_{example:03d}_{shape.index:02d}.csv"
    return Written(rel + ".gz", gzip.compress(data, mtime=0)) if shape.gz else Written(rel, data)


def _odd_lines(odd: int, fields: list[str], rnd: random.Random) -> list[str]:
    """A row's line(s), now and then with a blank line, a field too few or too many, a stray
    quote or text after a closing quote (and, in the caller, an exact copy of the row before)."""
    if odd == 0 and fields:
        fields = fields[:-1]
    elif odd == 1:
        fields = [*fields, "extra"]
    elif odd == 2 and fields:
        fields[0] = fields[0] + 'x"y'
    elif odd == 3 and fields:
        fields[-1] = '"ab"c'
    before = [rnd.choice(["", "   ", '""'])] if odd == 4 else []
    return [*before, ",".join(fields)]


# ---------------------------------------------------------------- the reference reading


@dataclass
class Reference:
    records: list[tuple[int, list[str]]]  # (line it starts on, fields) of every record, header first
    problem: str  # why the file cannot load ("" when it can)
    encoding: str


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def reference(w: Written) -> Reference:
    raw = gzip.decompress(w.data) if w.rel.endswith(".gz") else w.data
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[3:] if bom else raw
    text = body.decode("latin-1")
    old = csv.field_size_limit(sys.maxsize)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        records, start = [], 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not _blank(row):
                records.append((line, row))
    finally:
        csv.field_size_limit(old)
    encoding = _encoding(body, bom)
    return Reference(records, _problem(w, body, records, encoding), encoding)


def _encoding(body: bytes, bom: bool) -> str:
    try:
        body.decode("utf-8")
        return "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    if bom or re.search("[^\x00-\x7f\udc80-\udcff]", body.decode("utf-8", "surrogateescape")):
        return "bad-utf-8-sig" if bom else "bad-utf-8"
    return "cp1252"


def _problem(w: Written, body: bytes, records: list, encoding: str) -> str:
    if not body.strip():
        return "empty"
    head = body[:65536]
    if sum(1 for b in head if b < 32 and b not in (9, 10, 13)) > max(2, len(head) // 100):
        return "binary"
    if _open_quote(body.decode("latin-1")):
        return "unterminated quote"
    if encoding == "cp1252" and re.search(b"[\x81\x8d\x8f\x90\x9d]", body):
        return "undefined cp1252 byte"
    if not records:
        return "empty"
    entity = re.search(r"/(interactions|service_requests|kb_views)_", w.rel)[1]
    header = records[0][1]
    if encoding.startswith("bad") and any(re.search("[\x80-\xff]", h) and not _utf8(h) for h in header):
        return "header not UTF-8"
    names = {norm_header(h.encode("latin-1").decode("utf-8", "replace") if encoding != "cp1252" else h)
             for h in header}
    if any(c.required and c.name not in names for c in ENTITIES[entity]):
        return "required column missing"
    return "" if len(records) > 1 else "no data rows"


def _utf8(latin1: str) -> bool:
    try:
        latin1.encode("latin-1").decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _open_quote(text: str) -> bool:
    """True when the file ends inside a quoted field (csv module's non-strict rules)."""
    state = "start"
    for ch in text:
        if state == "start":
            state = "quoted" if ch == '"' else "start" if ch in ",\r\n" else "field"
        elif state == "field":
            state = "start" if ch in ",\r\n" else "field"
        elif state == "quoted":
            state = "quote" if ch == '"' else "quoted"
        else:  # just after a quote inside a quoted field
            state = "quoted" if ch == '"' else "start" if ch in ",\r\n" else "field"
    return state == "quoted"


# ---------------------------------------------------------------- the test


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(example=st.tuples(*(shapes(i) for i in range(FILES))))
def test_every_file_balances(example: tuple[Shape, ...]) -> None:
    CALLS["examples"] += 1  # in every file's name: no file is skipped as loaded before
    salt = hashlib.sha256(repr(example).encode()).hexdigest()
    files = [build(shape, CALLS["examples"], salt) for shape in example]
    DISTINCT.update(w.data for w in files)
    refs = {w.rel: reference(w) for w in files}
    good = [w for w in files if not refs[w.rel].problem]
    with tempfile.TemporaryDirectory(prefix="cx311_fuzz_") as tmp, \
            mock.patch.object(contract, "FIELD_MAX_BYTES", LIMIT), CountParsers():
        for w in files:
            if refs[w.rel].problem:
                _expect_problem(w, Path(tmp), refs[w.rel].problem)
        raw = Path(tmp) / "raw"
        for w in good:
            (raw / w.rel).parent.mkdir(parents=True, exist_ok=True)
            (raw / w.rel).write_bytes(w.data)
        if not good:
            return
        try:
            load(raw, WAREHOUSE, max_reject_rate=1.0)
        except CxError as e:  # no file problem was expected
            culprit = next((w for w in good if w.rel in str(e)), None)
            raise AssertionError(f"{e}\nfile: {culprit.data[:3000]!r}" if culprit else str(e)) from e
        except Exception as e:  # not the project's error: a bug; which file?
            raise AssertionError(f"{type(e).__name__}: {e}\n{_culprit(good, Path(tmp))}") from e
        con = duckdb.connect(str(WAREHOUSE), read_only=True)
        try:
            for w in good:
                _check(con, w, refs[w.rel])
        finally:
            con.close()


WAREHOUSE_DIR = tempfile.mkdtemp(prefix="cx311_fuzz_")
WAREHOUSE = Path(WAREHOUSE_DIR) / "warehouse.duckdb"  # reused by every example
atexit.register(shutil.rmtree, WAREHOUSE_DIR, ignore_errors=True)


class CountParsers:
    """Count which CSV parser read each file (both must be exercised)."""

    def __enter__(self) -> None:
        fast, exact = csv_rows._fast, csv_rows._exact

        def counted_fast(*args):
            got = fast(*args)
            CALLS["fast" if got is not None else "exact"] += 1
            return got

        def counted_exact(*args):
            if args[0].bad_utf8 or args[0].structure.irregular:
                CALLS["exact"] += 1
            return exact(*args)

        self.patches = [mock.patch.object(csv_rows, "_fast", counted_fast),
                        mock.patch.object(csv_rows, "_exact", counted_exact)]
        for p in self.patches:
            p.start()

    def __exit__(self, *exc: object) -> None:
        for p in self.patches:
            p.stop()


def _load_alone(w: Written, tmp: Path) -> None:
    raw = tmp / "alone" / "raw"
    (raw / w.rel).parent.mkdir(parents=True, exist_ok=True)
    (raw / w.rel).write_bytes(w.data)
    try:
        load(raw, Path(":memory:"), max_reject_rate=1.0)
    finally:
        (raw / w.rel).unlink()


def _expect_problem(w: Written, tmp: Path, problem: str) -> None:
    try:
        _load_alone(w, tmp)
    except CxError as e:
        assert "\n" not in str(e), (str(e), w.rel, w.data[:3000])
        CALLS["problems"] += 1
        return
    except Exception as e:
        raise AssertionError(f"{type(e).__name__} (not a CxError): {e}\nfile {w.rel}: {w.data[:3000]!r}") from e
    raise AssertionError(f"expected a file problem ({problem}), the file loaded: {w.rel} {w.data[:3000]!r}")


def _culprit(files: list[Written], tmp: Path) -> str:
    """The first file that fails alone with an error that is not a CxError."""
    for w in files:
        try:
            _load_alone(w, tmp)
        except CxError:
            continue
        except Exception as e:
            return f"file {w.rel} ({type(e).__name__}): {w.data[:3000]!r}"
    return "no file fails alone"


def _check(con: duckdb.DuckDBPyConnection, w: Written, ref: Reference) -> None:
    got = con.execute("SELECT entity, encoding, rows_read, rows_loaded, rows_rejected, duplicates_collapsed "
                      "FROM raw.load_audit WHERE source_file = ?", [w.rel]).fetchone()
    where = f"{w.rel}: {w.data[:3000]!r}"
    assert got is not None, where
    entity, encoding, read, loaded, rejected, collapsed = got
    data = ref.records[1:]
    assert read == len(data) == loaded + rejected + collapsed and collapsed >= 0, (got, len(data), where)
    assert encoding == ref.encoding.replace("bad-", ""), (encoding, ref.encoding, where)
    rows = con.execute(f"SELECT _source_line, {ID[entity]} FROM raw.{entity} WHERE _source_file = ?",
                       [w.rel]).fetchall()
    lines = [r[0] for r in con.execute("SELECT line FROM raw.rejects WHERE source_file = ?", [w.rel]).fetchall()]
    assert (len(rows), len(lines)) == (loaded, rejected), where
    by_line = dict(data)
    used = [r[0] for r in rows] + lines
    assert len(set(used)) == len(used) and set(used) <= set(by_line), (sorted(used), sorted(by_line), where)
    header = [norm_header(h) for h in ref.records[0][1]]
    at = header.index(ID[entity])
    codec = "cp1252" if encoding == "cp1252" else "utf-8"
    for line, key in rows:
        expected = by_line[line][at].encode("latin-1").decode(codec).strip(" ") or None
        assert key == expected, (line, key, expected, where)
    CALLS["files"] += 1
    CALLS["rejected"] += rejected
    CALLS["collapsed"] += collapsed


def test_both_parsers_were_exercised() -> None:
    """Runs after the fuzz test (pytest keeps the order of the module): the run covered
    FILES x EXAMPLES files, and both CSV parsers read a fair share of them."""
    print(f"\nfuzz: {CALLS}, {len(DISTINCT)} distinct files")
    assert CALLS["files"] + CALLS["problems"] >= EXAMPLES * FILES * 0.9
    assert CALLS["fast"] + CALLS["exact"] >= CALLS["files"]  # every file loaded was read
    assert CALLS["fast"] > 200 and CALLS["exact"] > 100 and CALLS["problems"] > 20
