"""Load the raw 311 extracts into the warehouse's landing tables (schema ``raw``).

The contract, in brief (the full text is the project's data contract):

* **Layout.** ``<raw>/<YEAR>/interactions*``, ``service_requests*`` and ``kb_views*`` files
  (``.csv``, ``.csv.gz`` or ``.parquet``; YEAR is any 4-digit folder);
  ``<raw>/open_data/*.{csv,csv.gz,zip}`` in the City of Toronto Open Data format (either header
  variant), loaded as service requests with a stable synthetic id ``OD-<sha8>-<line>`` (sha8 =
  first 8 hex digits of the file's SHA-256) and ``closed_at_available = false``; and the
  optional ``<raw>/reference/bia_boundaries.geojson`` used to fill a blank ``bia`` from the
  coordinates (point in polygon, property ``bia_name``). Everything else is ignored.
* **Values.** Channels, interaction types, outcomes and statuses are normalised (lower case,
  spaces/hyphens to underscores, the City's status spellings mapped). Timestamps become
  instants: an explicit UTC offset is honoured, otherwise the time is local America/Toronto;
  in the autumn repeated hour the first (EDT) occurrence is taken; a local time that does not
  exist (spring-forward gap, e.g. 2024-03-10 02:30) is rejected as ``unparseable timestamp``.
  Accepted forms: ``2024-07-16 15:04:05``, ``2024-07-16T15:04:05``,
  ``2024-07-16T15:04:05-04:00``, ``2024-07-16 15:04:05.0000000``, ``16/Jul/2024 03:04 PM``.
  Parquet timestamps without a time zone are local time; with a time zone they are instants.
  ``ward`` is stored as the raw text. Unknown extra columns are never read into the warehouse.
* **Row problems** go to ``raw.rejects`` (file, entity, line, column, first reason found) and
  the rest of the file loads. Reasons are fixed phrases: ``required value missing``,
  ``unparseable timestamp``, ``unparseable date``, ``unknown channel``,
  ``unknown interaction type``, ``unknown outcome``, ``unknown status``, ``invalid boolean``,
  ``negative seconds``, ``non-integer seconds``, ``negative count``, ``non-integer count``,
  ``invalid coordinate``, ``closed before created``. Conditionally required: ``outcome`` for
  phone and live_chat, ``queue_seconds`` for phone, ``handle_seconds`` for answered phone/chat.
* **File problems** (required column missing, not a CSV/Parquet file, empty file or no data
  rows, undecodable bytes) and a file whose rejects exceed ``max_reject_rate`` of its rows
  raise :class:`LoadError`; the whole run is one transaction, so nothing from it is written.
* **Encodings.** UTF-8, UTF-8 with BOM, Windows-1252 (anything that is not valid UTF-8;
  bytes undefined in cp1252 are an error). cp1252 files are transcoded to a temporary UTF-8
  copy before DuckDB reads them.
* **Line numbers.** CSV: the physical line, header = line 1, computed as row number + 1 (a
  quoted field with an embedded newline shifts the numbers of the rows after it). Parquet:
  row number + 1, as if a header line came first.
* **Nothing lost.** Per file: rows_read = rows_loaded + rows_rejected + duplicates_collapsed,
  stored in ``raw.load_audit``. Only exact duplicates (same normalised value in every contract
  column) are collapsed, counted in the file holding the later copy (later delivery, or a
  later line of the same file). Repeated ids with different values are all kept; dbt keeps
  the one with the highest ``_delivery_rank``. Every id seen more than once (in one file or
  across deliveries) is listed in ``raw.repeated_ids``, so dbt ranks only those ids' rows.
* **Delivery order and idempotency.** Files are ranked 1..n by modification time, then file
  name, then relative path. Per entity, the files whose (path, SHA-256) sequence in delivery
  order matches the previous load are skipped (only their rank is updated if it moved);
  from the first difference on, the old rows are deleted and the files are (re)loaded, so a
  changed file replaces its rows, a removed file's rows disappear, and duplicate collapsing
  against earlier deliveries stays exact. Loading the same folder twice changes nothing.
  Note: a changed ``bia_boundaries.geojson`` alone does not trigger a reload.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import duckdb

from ..contract import (
    CHANNELS,
    DDL,
    DEDUP_KEYS,
    ENTITIES,
    ID_COLUMNS,
    INTERACTION_TYPES,
    OPEN_DATA_REQUIRED,
    OPEN_DATA_VARIANTS,
    OUTCOMES,
    RAW_SCHEMA,
    STATUS_MAP,
    TZ,
    Col,
    SourceFile,
    discover,
)
from ..errors import CxError
from ..warehouse import connect

CHUNK = 1 << 20
CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}

Progress = Callable[[str, int, int], None]  # (file just loaded, done, total)


class LoadError(CxError):
    """A file (or the run) cannot be loaded; nothing from the run was written."""


@dataclass
class LoadSummary:
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    duplicates_collapsed: int = 0


# --------------------------------------------------------------------------- contract


# --------------------------------------------------------------------------- helpers


def qi(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def norm_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _in_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(ql(v) for v in values) + ")"


# --------------------------------------------------------------------------- CSV bytes


def _fail(path: Path, problem: str) -> LoadError:
    return LoadError(f"Cannot load {path}: {problem} Nothing from this run was loaded.")


def _open_bytes(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _chunks(path: Path) -> Iterator[bytes]:
    try:
        with _open_bytes(path) as f:
            yield from iter(lambda: f.read(CHUNK), b"")
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise _fail(path, f"it is not a readable gzip-compressed file ({e}).") from e


def prepare_csv(path: Path, display: Path, tmp: Path) -> tuple[Path, str]:
    """Check a CSV's bytes; return (path DuckDB should read, encoding).

    Raises LoadError for an empty file, binary content, an HTML page or undecodable bytes.
    Windows-1252 files are transcoded to a UTF-8 copy in ``tmp``.
    """
    it = _chunks(path)
    first = next(it, b"")
    head = first[:65536]
    if not first.strip():
        if not first or not any(c.strip() for c in it):
            raise _fail(display, "the file is empty.")
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or control > max(2, len(head) // 100):
        raise _fail(display, "it is not a CSV file (it contains binary data).")
    lead = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lead.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise _fail(
            display,
            "it is not a CSV file but an HTML/XML page (perhaps an error or login page "
            "saved instead of the extract).",
        )
    encoding = "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        dec.decode(first)
        for chunk in it:
            dec.decode(chunk)
        dec.decode(b"", final=True)
        return path, encoding
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Windows-1252, transcoded to a temporary UTF-8 copy.
    out = tmp / (hashlib.sha1(str(path).encode()).hexdigest()[:12] + ".csv")
    offset = 0
    line = 1
    with out.open("w", encoding="utf-8", newline="") as w:
        for chunk in _chunks(path):
            bad = next((i for i, b in enumerate(chunk) if b in CP1252_UNDEFINED), None)
            if bad is not None:
                line += chunk[:bad].count(b"\n")
                raise _fail(
                    display,
                    f"it contains bytes that are neither UTF-8 nor Windows-1252 (byte 0x"
                    f"{chunk[bad]:02X} at byte offset {offset + bad}, line {line}); "
                    "re-export it as UTF-8.",
                )
            w.write(chunk.decode("cp1252"))
            offset += len(chunk)
            line += chunk.count(b"\n")
    return out, "cp1252"


def _extract_zip(path: Path, tmp: Path) -> Path:
    try:
        with zipfile.ZipFile(path) as z:
            members = [
                m
                for m in z.infolist()
                if not m.is_dir()
                and m.filename.lower().endswith(".csv")
                and not Path(m.filename).name.startswith(".")
                and "__MACOSX" not in m.filename
            ]
            if len(members) != 1:
                raise _fail(
                    path,
                    f"the zip archive must contain exactly one CSV file, it contains "
                    f"{len(members)}.",
                )
            out = tmp / (hashlib.sha1(str(path).encode()).hexdigest()[:12] + "_zip.csv")
            with z.open(members[0]) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            return out
    except zipfile.BadZipFile as e:
        raise _fail(path, "it is not a valid zip archive.") from e


# --------------------------------------------------------------------------- SQL


MACROS = [
    # Local wall-clock TIMESTAMP -> instant; first occurrence in the repeated autumn hour;
    # NULL for a time inside the spring-forward gap.
    f"""CREATE OR REPLACE TEMP MACRO _local_ts(t) AS CASE
        WHEN t IS NULL THEN NULL
        WHEN hour(t) NOT IN (1, 2) THEN timezone('{TZ}', t)
        WHEN timezone('{TZ}', timezone('{TZ}', t) - INTERVAL 1 HOUR) = t
            THEN timezone('{TZ}', t) - INTERVAL 1 HOUR
        WHEN timezone('{TZ}', timezone('{TZ}', t)) = t THEN timezone('{TZ}', t)
    END""",
    r"""CREATE OR REPLACE TEMP MACRO _parse_ts(s) AS CASE
        WHEN regexp_full_match(s, '\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?')
            THEN _local_ts(try_cast(s AS TIMESTAMP))
        WHEN regexp_full_match(s,
                '\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)? ?(Z|[+-]\d{2}(:?\d{2})?)')
            THEN try_cast(s AS TIMESTAMPTZ)
        WHEN regexp_full_match(s, '\d{1,2}/[A-Za-z]{3}/\d{4} \d{1,2}:\d{2} ?[AaPp][Mm]')
            THEN _local_ts(try_strptime(s, '%d/%b/%Y %I:%M %p'))
    END""",
    r"""CREATE OR REPLACE TEMP MACRO _norm(s) AS
        replace(replace(lower(trim(s)), ' ', '_'), '-', '_')""",
    r"""CREATE OR REPLACE TEMP MACRO _int(d) AS CASE
        WHEN isfinite(d) AND d = floor(d) AND abs(d) < 2147483648 THEN CAST(d AS BIGINT)
    END""",
]


def _category(dtype: str) -> str:
    t = dtype.upper()
    if t in ("VARCHAR", '"NULL"', "NULL"):
        return "varchar"
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "timestamptz"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t == "DATE":
        return "date"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT"):
        return "integer"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "float"
    if t == "BOOLEAN":
        return "boolean"
    return "other"


def typed_expr(col: Col, cat: str) -> str:
    """Expression turning the staged column into its landing type (NULL when invalid)."""
    x = qi(col.name)
    if cat == "other":
        x, cat = f"CAST({x} AS VARCHAR)", "varchar"
    k = col.kind
    if k == "ts":
        return {
            "timestamptz": x,
            "timestamp": f"_local_ts(CAST({x} AS TIMESTAMP))",
            "date": f"_local_ts(CAST({x} AS TIMESTAMP))",
        }.get(cat, f"_parse_ts(CAST({x} AS VARCHAR))")
    if k == "date":
        return {
            "date": x,
            "timestamp": f"CAST({x} AS DATE)",
            "timestamptz": f"CAST(timezone('{TZ}', {x}) AS DATE)",
        }.get(
            cat,
            rf"""coalesce(CASE WHEN regexp_full_match({x}, '\d{{4}}-\d{{2}}-\d{{2}}')
                THEN try_cast({x} AS DATE) END, CAST(timezone('{TZ}', _parse_ts({x})) AS DATE))""",
        )
    if k in ("seconds", "count"):
        if cat == "integer":
            return f"CAST({x} AS BIGINT)"
        if cat == "float":
            return f"_int(CAST({x} AS DOUBLE))"
        return f"_int(try_cast(CAST({x} AS VARCHAR) AS DOUBLE))"
    if k == "bool":
        if cat == "boolean":
            return x
        v = f"lower(trim(CAST({x} AS VARCHAR)))"
        return (
            f"CASE WHEN {v} IN ('true', '1', 'yes', 'y') THEN true "
            f"WHEN {v} IN ('false', '0', 'no', 'n') THEN false END"
        )
    if k == "coord":
        lim = 90 if col.name == "latitude" else 180
        d = f"CAST({x} AS DOUBLE)" if cat in ("integer", "float") else f"try_cast({x} AS DOUBLE)"
        return f"CASE WHEN isfinite({d}) AND abs({d}) <= {lim} THEN {d} END"
    if k in ("channel", "itype", "outcome"):
        allowed = {"channel": CHANNELS, "itype": INTERACTION_TYPES, "outcome": OUTCOMES}[k]
        n = f"_norm(CAST({x} AS VARCHAR))"
        return f"CASE WHEN {n} IN {_in_list(allowed)} THEN {n} END"
    if k == "status":
        n = f"_norm(CAST({x} AS VARCHAR))"
        whens = " ".join(f"WHEN {ql(a)} THEN {ql(b)}" for a, b in STATUS_MAP.items())
        return f"CASE {n} {whens} END"
    return f"CAST({x} AS VARCHAR)"


INVALID_REASON = {
    "ts": "unparseable timestamp",
    "date": "unparseable date",
    "seconds": "non-integer seconds",
    "count": "non-integer count",
    "bool": "invalid boolean",
    "coord": "invalid coordinate",
    "channel": "unknown channel",
    "itype": "unknown interaction type",
    "outcome": "unknown outcome",
    "status": "unknown status",
}
NEGATIVE_REASON = {"seconds": "negative seconds", "count": "negative count"}


def problem_expr(entity: str) -> str:
    """CASE giving 'column|reason' for the first problem in a row of the typed table."""
    whens: list[str] = []
    for col in ENTITIES[entity]:
        c, p = qi(col.name), qi(col.name + "__p")
        missing = f"WHEN NOT {p} THEN '{col.name}|required value missing'"
        if col.required:
            whens.append(missing)
        elif entity == "interactions" and col.name == "outcome":
            whens.append(f"WHEN NOT {p} AND channel IN ('phone', 'live_chat') "
                         "THEN 'outcome|required value missing'")
        elif entity == "interactions" and col.name == "queue_seconds":
            whens.append(f"WHEN NOT {p} AND channel = 'phone' "
                         "THEN 'queue_seconds|required value missing'")
        elif entity == "interactions" and col.name == "handle_seconds":
            whens.append(f"WHEN NOT {p} AND channel IN ('phone', 'live_chat') "
                         "AND outcome = 'answered' THEN 'handle_seconds|required value missing'")
        if col.kind in INVALID_REASON:
            whens.append(f"WHEN {p} AND {c} IS NULL THEN '{col.name}|{INVALID_REASON[col.kind]}'")
        if col.kind in NEGATIVE_REASON:
            whens.append(f"WHEN {c} < 0 THEN '{col.name}|{NEGATIVE_REASON[col.kind]}'")
        if col.kind in ("seconds", "count"):
            whens.append(f"WHEN {c} > 2147483647 THEN '{col.name}|{INVALID_REASON[col.kind]}'")
        if entity == "service_requests" and col.name == "closed_at":
            whens.append("WHEN closed_at < created_at THEN 'closed_at|closed before created'")
    return "CASE " + "\n".join(whens) + " END"


# --------------------------------------------------------------------------- loading


def _duck_msg(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__


class _Loader:
    def __init__(self, con: duckdb.DuckDBPyConnection, raw_dir: Path, tmp: Path,
                 max_reject_rate: float, bia: tuple[object, list[str]] | None) -> None:
        self.con = con
        self.raw_dir = raw_dir
        self.tmp = tmp
        self.max_reject_rate = max_reject_rate
        self.bia = bia

    # -- staging: a temp view `stg` with _line and one column per contract column
    def stage(self, sf: SourceFile) -> str | None:
        """Create temp view ``stg``; return the detected encoding (None for Parquet)."""
        con = self.con
        con.execute("DROP VIEW IF EXISTS stg")
        cols = ENTITIES[sf.entity]
        if sf.file_format == "parquet":
            with sf.path.open("rb") as f:
                head = f.read(4)
                f.seek(max(0, sf.size - 4))
                tail = f.read(4)
            if sf.size == 0:
                raise _fail(sf.path, "the file is empty.")
            if head != b"PAR1" or tail != b"PAR1":
                raise _fail(sf.path, "it is not a Parquet file (missing the Parquet signature).")
            src = f"read_parquet({ql(str(sf.path))}, file_row_number=true)"
            try:
                desc = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
            except duckdb.Error as e:
                raise _fail(sf.path, f"it could not be read as Parquet ({_duck_msg(e)}).") from e
            line_expr = "file_row_number + 2"
            encoding = None
        else:
            path = sf.path
            if sf.path.name.lower().endswith(".zip"):
                path = _extract_zip(sf.path, self.tmp)
            read_path, encoding = prepare_csv(path, sf.path, self.tmp)
            src = (
                f"read_csv({ql(str(read_path))}, all_varchar=true, header=true, delim=',', "
                "quote='\"', escape='\"', null_padding=true"
                + (", compression='gzip'" if read_path.name.lower().endswith(".gz") else "")
                + ")"
            )
            try:
                desc = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
            except duckdb.Error as e:
                raise _fail(sf.path, f"it could not be read as CSV ({_duck_msg(e)}).") from e
            line_expr = "row_number() OVER () + 1"
        source = {norm_header(name): (name, dtype) for name, dtype, *_ in reversed(desc)}
        found = ", ".join(name for name, *_ in desc[:30])

        exprs: dict[str, str] = {}
        used: list[str] = []

        def raw(name: str, dtype: str) -> str:
            used.append(name)
            if _category(dtype) == "varchar":
                return f"nullif(trim({qi(name)}), '')"
            if _category(dtype) == "other":
                return f"nullif(trim(CAST({qi(name)} AS VARCHAR)), '')"
            return qi(name)

        if sf.file_format == "open_data":
            variant, mapping = max(
                OPEN_DATA_VARIANTS.items(), key=lambda kv: len(set(kv[1]) & set(source))
            )
            have = {mapping[h]: source[h] for h in mapping if h in source}
            missing = [h for h, c in mapping.items() if c in OPEN_DATA_REQUIRED and h not in source]
            if missing:
                raise _fail(
                    sf.path,
                    "it is not in either City Open Data header variant: required column(s) "
                    + ", ".join(f"'{m}'" for m in missing)
                    + f" missing (columns found: {found}).",
                )
            sha8 = sf.sha256[:8]
            for c in cols:
                exprs[c.name] = "NULL::VARCHAR"
            for c, (name, dtype) in have.items():
                if c != "location":
                    exprs[c] = raw(name, dtype)
            if "location" in have:
                loc = raw(*have["location"])
                fsa = r"regexp_full_match(upper(loc), '[A-Z]\d[A-Z]')"
                exprs["fsa"] = f"CASE WHEN {fsa.replace('loc', loc)} THEN upper({loc}) END"
                exprs["intersection_1"] = (
                    f"CASE WHEN NOT {fsa.replace('loc', loc)} THEN {loc} END"
                )
            exprs["sr_id"] = f"'OD-{sha8}-' || CAST(_line AS VARCHAR)"
        else:
            missing = [c.name for c in cols if c.required and c.name not in source]
            if missing:
                raise _fail(
                    sf.path,
                    f"the required column(s) {', '.join(repr(m) for m in missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} missing for {sf.entity} "
                    f"(columns found: {found}).",
                )
            for c in cols:
                exprs[c.name] = raw(*source[c.name]) if c.name in source else "NULL::VARCHAR"

        inner = ", ".join(qi(n) for n in dict.fromkeys(used)) or "1 AS _dummy"
        select = ", ".join(f"{e} AS {qi(n)}" for n, e in exprs.items())
        try:
            con.execute(
                f"CREATE TEMP VIEW stg AS SELECT _line, {select} FROM "
                f"(SELECT {line_expr} AS _line, {inner} FROM {src})"
            )
        except duckdb.Error as e:
            kind = "Parquet" if sf.file_format == "parquet" else "CSV"
            raise _fail(sf.path, f"it could not be read as {kind} ({_duck_msg(e)}).") from e
        return encoding

    def load_file(self, sf: SourceFile) -> tuple[int, int, int, int]:
        con = self.con
        encoding = self.stage(sf)
        cols = ENTITIES[sf.entity]
        types = {r[0]: r[1] for r in con.execute("DESCRIBE stg").fetchall()}
        parts = ["_line"]
        for c in cols:
            parts.append(f"{typed_expr(c, _category(types[c.name]))} AS {qi(c.name)}")
            parts.append(f"{qi(c.name)} IS NOT NULL AS {qi(c.name + '__p')}")
        # `typed`: every row with its landing-typed values. Parquet is cheap to read again, so
        # it stays a view over the file (nothing wide is materialised: at 10x Toronto's
        # volume a 13 M-row table cost 8 GB); a CSV is parsed once into a table.
        kind = "VIEW" if sf.file_format == "parquet" else "TABLE"
        try:
            con.execute(f"CREATE TEMP {kind} typed AS SELECT {', '.join(parts)} FROM stg")
            keys = DEDUP_KEYS[sf.entity]
            klist = ", ".join(qi(k) for k in keys)
            # `checked`: one narrow row per line with its key and its first problem
            con.execute(
                f"CREATE TEMP TABLE checked AS SELECT _line, {klist}, "
                f"{problem_expr(sf.entity)} AS _problem FROM typed"
            )
        except duckdb.Error as e:
            kind = "Parquet" if sf.file_format == "parquet" else "CSV"
            raise _fail(sf.path, f"it could not be read as {kind} ({_duck_msg(e)}).") from e
        rows_read, rejected = con.execute(
            "SELECT count(*), count(_problem) FROM checked"
        ).fetchone()  # type: ignore[misc]
        if rows_read == 0:
            raise _fail(sf.path, "the file is empty (it has no data rows).")
        if rejected and rejected > self.max_reject_rate * rows_read:
            self._too_many_rejects(sf, rows_read, rejected)
        con.execute(
            "INSERT INTO raw.rejects SELECT ?, ?, _line, split_part(_problem, '|', 1), "
            "split_part(_problem, '|', 2) FROM checked WHERE _problem IS NOT NULL ORDER BY _line",
            [sf.rel, sf.entity],
        )

        names = [c.name for c in cols]
        # `good`: the rows without a problem, with a blank BIA filled from the boundaries
        select = ", ".join(f"t.{qi(n)}" for n in names)
        source = "typed t"
        if sf.entity == "service_requests" and self.bia is not None and self._bia_map():
            select = select.replace('t."bia"', 'coalesce(t."bia", m.bia) AS "bia"')
            source += (" LEFT JOIN _bia_map m ON t.bia IS NULL "
                       "AND t.latitude = m.latitude AND t.longitude = m.longitude")
        where = ("WHERE NOT EXISTS (SELECT 1 FROM checked c WHERE c._problem IS NOT NULL "
                 "AND c._line = t._line)" if rejected else "")
        con.execute(f"CREATE TEMP VIEW good AS SELECT t._line, {select} FROM {source} {where}")

        extra = ["closed_at_available"] if sf.entity == "service_requests" else []
        clist = ", ".join(qi(n) for n in names)
        good_rows = rows_read - rejected
        target = f"{RAW_SCHEMA}.{sf.entity}"
        # Exact duplicates share the key: only rows whose key repeats in this file or already
        # exists in an earlier delivery go through the (expensive) all-column comparison.
        key_of_good = f"SELECT {klist} FROM checked WHERE _problem IS NULL"
        con.execute(
            f"CREATE TEMP TABLE dupkeys AS {key_of_good} GROUP BY ALL HAVING count(*) > 1 "
            f"UNION SELECT DISTINCT {klist} FROM {target} WHERE "
            + (f"({klist}) IN (SELECT ({klist}) FROM checked WHERE _problem IS NULL)"
               if len(keys) > 1 else f"{klist} IN ({key_of_good})")
        )
        repeated = con.execute("SELECT count(*) FROM dupkeys").fetchone()[0]  # type: ignore[index]
        kjoin = " AND ".join(f"d.{qi(k)} = g.{qi(k)}" for k in keys)
        closed_avail = ["false" if sf.file_format == "open_data" else "true"] if extra else []
        insert_cols = ", ".join([clist, *extra, "_source_file", "_source_line", "_delivery_rank"])
        select_cols = ", ".join(
            [", ".join(f"g.{qi(n)}" for n in names), *closed_avail, "?", "g._line", "?"]
        )
        loaded = 0
        if repeated and sf.entity in ID_COLUMNS:
            con.execute(
                f"INSERT INTO raw.repeated_ids SELECT DISTINCT ?, {klist} FROM dupkeys d "
                f"WHERE NOT EXISTS (SELECT 1 FROM raw.repeated_ids r "
                f"WHERE r.entity = ? AND r.id = d.{klist})",
                [sf.entity, sf.entity],
            )
        if repeated:
            cond = " AND ".join(
                [f"e.{qi(k)} = g.{qi(k)}" for k in keys]
                + [f"e.{qi(n)} IS NOT DISTINCT FROM g.{qi(n)}" for n in names if n not in keys]
            )
            con.execute(
                f"CREATE TEMP TABLE repeats AS SELECT {clist}, min(_line) AS _line FROM good g "
                f"WHERE EXISTS (SELECT 1 FROM dupkeys d WHERE {kjoin}) GROUP BY ALL"
            )
            loaded += con.execute(
                f"INSERT INTO {target} ({insert_cols}) SELECT {select_cols} FROM repeats g "
                f"WHERE NOT EXISTS (SELECT 1 FROM {target} e WHERE {cond}) ORDER BY g._line",
                [sf.rel, sf.rank],
            ).fetchone()[0]  # type: ignore[index]
            con.execute("DROP TABLE repeats")
        loaded += con.execute(
            f"INSERT INTO {target} ({insert_cols}) SELECT {select_cols} FROM good g"
            + (f" WHERE NOT EXISTS (SELECT 1 FROM dupkeys d WHERE {kjoin})" if repeated else ""),
            [sf.rel, sf.rank],
        ).fetchone()[0]  # type: ignore[index]
        dups = good_rows - loaded
        con.execute("DROP VIEW good")
        con.execute("DROP TABLE dupkeys")
        con.execute("DROP TABLE checked")
        con.execute(f"DROP {'VIEW' if sf.file_format == 'parquet' else 'TABLE'} typed")
        con.execute("DROP VIEW stg")
        con.execute("DROP TABLE IF EXISTS _bia_map")
        con.execute(
            "INSERT INTO raw.load_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sf.rel, sf.entity, sf.file_format, encoding, sf.sha256, sf.size, sf.rank,
             rows_read, loaded, rejected, dups],
        )
        return rows_read, loaded, rejected, dups

    def _too_many_rejects(self, sf: SourceFile, rows_read: int, rejected: int) -> None:
        top = self.con.execute(
            "SELECT split_part(_problem, '|', 2), split_part(_problem, '|', 1), count(*), "
            "min(_line) FROM checked WHERE _problem IS NOT NULL GROUP BY 1, 2 "
            "ORDER BY 3 DESC, 4 LIMIT 3"
        ).fetchall()
        reasons = "; ".join(
            f"'{reason}' in column {column} ({n} row{'s' if n != 1 else ''}, e.g. line {line})"
            for reason, column, n, line in top
        )
        raise _fail(
            sf.path,
            f"{rejected} of its {rows_read} rows ({rejected / rows_read:.1%}) were rejected, "
            f"more than the allowed {self.max_reject_rate:.1%}. Most common reasons: {reasons}.",
        )

    def _bia_map(self) -> bool:
        """Temp table ``_bia_map`` (latitude, longitude, bia): the BIA whose boundary holds each
        point of a row with a blank ``bia`` (point in polygon). False when no point is in one."""
        import numpy as np
        import pyarrow as pa
        import shapely

        assert self.bia is not None
        tree, names = self.bia
        pts = self.con.execute(
            "SELECT DISTINCT latitude, longitude FROM typed WHERE bia IS NULL "
            "AND latitude IS NOT NULL AND longitude IS NOT NULL"
        ).fetchnumpy()
        lat = np.asarray(pts["latitude"], dtype="float64")
        lon = np.asarray(pts["longitude"], dtype="float64")
        if len(lat) == 0:
            return False
        geoms = shapely.points(lon, lat)
        idx_pt, idx_poly = tree.query(geoms, predicate="intersects")  # type: ignore[attr-defined]
        if len(idx_pt) == 0:
            return False
        order = np.lexsort((idx_poly, idx_pt))
        idx_pt, idx_poly = idx_pt[order], idx_poly[order]
        first = np.unique(idx_pt, return_index=True)[1]
        sel_pt, sel_poly = idx_pt[first], idx_poly[first]
        mapping = pa.table(
            {
                "latitude": lat[sel_pt],
                "longitude": lon[sel_pt],
                "bia": pa.array([names[i] for i in sel_poly], type=pa.string()),
            }
        )
        self.con.register("_bia_points", mapping)
        try:
            self.con.execute("CREATE TEMP TABLE _bia_map AS SELECT * FROM _bia_points")
        finally:
            self.con.unregister("_bia_points")
        return True


def _load_bia(raw_dir: Path) -> tuple[object, list[str]] | None:
    path = raw_dir / "reference" / "bia_boundaries.geojson"
    if not path.is_file():
        return None
    import shapely
    from shapely.geometry import shape

    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        geoms, names = [], []
        for feat in doc["features"]:
            name = (feat.get("properties") or {}).get("bia_name")
            if not name or not feat.get("geometry"):
                continue
            geoms.append(shape(feat["geometry"]))
            names.append(str(name))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise _fail(path, f"it is not a valid GeoJSON FeatureCollection of BIA polygons ({e}).") from e
    if not geoms:
        return None
    return shapely.STRtree(geoms), names


def load(raw_dir: Path, db_path: Path, max_reject_rate: float = 0.01,
         progress: Progress | None = None) -> LoadSummary:
    """Load every contract file under ``raw_dir`` into ``db_path`` (one transaction)."""
    raw_dir = Path(raw_dir)
    db_path = Path(db_path)
    if not raw_dir.is_dir():
        raise LoadError(f"Cannot load {raw_dir}: the raw folder does not exist. "
                        "Nothing from this run was loaded.")
    files = discover(raw_dir)
    bia = _load_bia(raw_dir)
    summary = LoadSummary()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db_path)
    try:
        with tempfile.TemporaryDirectory(prefix="cx311_load_") as tmpdir:
            con.execute("BEGIN TRANSACTION")
            try:
                _run(con, raw_dir, Path(tmpdir), files, max_reject_rate, bia, summary, progress)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    finally:
        con.close()
    return summary


def _run(con: duckdb.DuckDBPyConnection, raw_dir: Path, tmp: Path, files: list[SourceFile],
         max_reject_rate: float, bia: tuple[object, list[str]] | None,
         summary: LoadSummary, progress: Progress | None = None) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    had_repeated_ids = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = ? AND table_name = 'repeated_ids'", [RAW_SCHEMA]
    ).fetchone()[0]  # type: ignore[index]
    for ddl in DDL.values():
        con.execute(ddl)
    if not had_repeated_ids:  # a warehouse loaded before the table existed: list them once
        for entity, id_col in ID_COLUMNS.items():
            con.execute(
                f"INSERT INTO raw.repeated_ids SELECT ?, {qi(id_col)} FROM {RAW_SCHEMA}.{entity} "
                "GROUP BY ALL HAVING count(*) > 1", [entity]
            )
    for macro in MACROS:
        con.execute(macro)
    old = con.execute(
        "SELECT source_file, entity, sha256, delivery_rank FROM raw.load_audit "
        "ORDER BY delivery_rank"
    ).fetchall()
    loader = _Loader(con, raw_dir, tmp, max_reject_rate, bia)
    to_load: list[SourceFile] = []
    for entity in ENTITIES:
        old_seq = [(f, sha) for f, e, sha, _ in old if e == entity]
        new_files = [s for s in files if s.entity == entity]
        k = 0
        while (k < len(old_seq) and k < len(new_files)
               and old_seq[k] == (new_files[k].rel, new_files[k].sha256)):
            k += 1
        for f, _sha in old_seq[k:]:
            con.execute(f"DELETE FROM {RAW_SCHEMA}.{entity} WHERE _source_file = ?", [f])
            con.execute("DELETE FROM raw.rejects WHERE source_file = ?", [f])
            con.execute("DELETE FROM raw.load_audit WHERE source_file = ?", [f])
        old_rank = {f: r for f, e, _sha, r in old if e == entity}
        for sf in new_files[:k]:
            summary.files_skipped.append(sf.rel)
            if old_rank.get(sf.rel) != sf.rank:
                con.execute(
                    f"UPDATE {RAW_SCHEMA}.{entity} SET _delivery_rank = ? WHERE _source_file = ?",
                    [sf.rank, sf.rel],
                )
                con.execute(
                    "UPDATE raw.load_audit SET delivery_rank = ? WHERE source_file = ?",
                    [sf.rank, sf.rel],
                )
        to_load.extend(new_files[k:])
    for done, sf in enumerate(sorted(to_load, key=lambda s: s.rank), start=1):
        read, loaded, rejected, dups = loader.load_file(sf)
        if progress is not None:
            progress(sf.rel, done, len(to_load))
        summary.files_loaded.append(sf.rel)
        summary.rows_read += read
        summary.rows_loaded += loaded
        summary.rows_rejected += rejected
        summary.duplicates_collapsed += dups
    summary.files_skipped.sort()
