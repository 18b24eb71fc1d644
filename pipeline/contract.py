"""The column contract: the one statement of what an extract holds and where it lies.

The loader validates against it, the demo generator writes it, the docs restate it and the
tests derive their fixtures from it. Landing tables live in the DuckDB schema ``raw``; values
there are already validated and normalised by the loader (channels, types and statuses lower
case with underscores; timestamps as absolute instants). Bookkeeping columns start with an
underscore.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from .files import sha256
from .mapping import FOLDER as MAPPED_FOLDER
from .mapping import Mapping, covered, mapping_files, read_mappings

DEMO_MARKER = "DEMO_DATA.md"  # the file the demo generator leaves in the raw folder

RAW_SCHEMA = "raw"

CHANNELS = ("phone", "email", "live_chat", "web", "mobile_app", "social", "in_person", "other")
INTERACTION_TYPES = ("general_inquiry", "service_request", "status_update")
OUTCOMES = ("answered", "abandoned")
SR_STATUSES = ("initiated", "in_progress", "closed", "cancelled", "unknown")

# The id column of each entity whose repeated ids are listed in raw.repeated_ids.
ID_COLUMNS = {"interactions": "interaction_id", "service_requests": "sr_id"}

# Columns shared by every landing table: where the row came from.
#   _source_file    path of the file relative to the raw folder, e.g. '2024/interactions.csv'
#   _source_line    1-based line number in the file (CSV: the physical line, header = line 1;
#                   Parquet: row number + 1, as if a header line came first)
#   _delivery_rank  the file's place in the delivery order, fixed when the warehouse first
#                   loaded it (pipeline/ingest/deliveries.py); a higher rank is a later
#                   delivery and wins for a repeated id (for an SR, after updated_at)
_BOOKKEEPING = """
    _source_file    VARCHAR NOT NULL,
    _source_line    BIGINT NOT NULL,
    _delivery_rank  INTEGER NOT NULL
"""

DDL = {
    "interactions": f"""
    CREATE TABLE IF NOT EXISTS raw.interactions (
        interaction_id   VARCHAR NOT NULL,
        started_at       TIMESTAMPTZ NOT NULL,
        channel          VARCHAR NOT NULL,
        interaction_type VARCHAR NOT NULL,
        topic            VARCHAR,
        outcome          VARCHAR,
        queue_seconds    INTEGER,
        handle_seconds   INTEGER,
        transferred      BOOLEAN,
        responded_at     TIMESTAMPTZ,
        sr_id            VARCHAR,
        language         VARCHAR,
        {_BOOKKEEPING}
    )""",
    "service_requests": f"""
    CREATE TABLE IF NOT EXISTS raw.service_requests (
        sr_id             VARCHAR NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL,
        closed_at         TIMESTAMPTZ,
        status            VARCHAR NOT NULL,
        sr_type           VARCHAR NOT NULL,
        division          VARCHAR NOT NULL,
        section           VARCHAR,
        ward              VARCHAR,
        fsa               VARCHAR,
        intersection_1    VARCHAR,
        intersection_2    VARCHAR,
        latitude          DOUBLE,
        longitude         DOUBLE,
        bia               VARCHAR,
        channel           VARCHAR,
        due_at            TIMESTAMPTZ,  -- the source system's own due date (optional)
        -- optional: when the source system last changed the record; the latest wins first
        updated_at        TIMESTAMPTZ,
        -- false for formats without a closing time (City Open Data): closed_at is unknown,
        -- not empty, and every metric that needs it is null
        closed_at_available BOOLEAN NOT NULL,
        {_BOOKKEEPING}
    )""",
    "kb_views": f"""
    CREATE TABLE IF NOT EXISTS raw.kb_views (
        date          DATE NOT NULL,
        article_id    VARCHAR NOT NULL,
        article_title VARCHAR NOT NULL,
        views         BIGINT NOT NULL,
        {_BOOKKEEPING}
    )""",
    # One row per file loaded: rows_read = rows_loaded + rows_rejected + duplicates_collapsed.
    "load_audit": """
    CREATE TABLE IF NOT EXISTS raw.load_audit (
        source_file          VARCHAR PRIMARY KEY,
        entity               VARCHAR NOT NULL,  -- interactions | service_requests | kb_views
        file_format          VARCHAR NOT NULL,  -- csv | csv.gz | parquet | open_data
        encoding             VARCHAR,           -- utf-8 | utf-8-sig | cp1252 (null for parquet)
        sha256               VARCHAR NOT NULL,
        size_bytes           BIGINT NOT NULL,
        delivery_rank        INTEGER NOT NULL,
        rows_read            BIGINT NOT NULL,
        rows_loaded          BIGINT NOT NULL,
        rows_rejected        BIGINT NOT NULL,
        duplicates_collapsed BIGINT NOT NULL,
        -- the load run that first loaded this content (1, 2, ...; 0: before places were kept):
        -- files first loaded in one run are placed by modification time, then name
        load_batch           INTEGER NOT NULL DEFAULT 0,
        mtime_ns             BIGINT  -- the file's modification time then (its extract time)
    )""",
    # Every id delivered more than once (twice in one file, or again in a later file), found by
    # the loader while it looks for exact duplicates: dbt ranks the deliveries of these ids
    # only, instead of sorting every row. A superset is harmless (an id listed here that is
    # now delivered once is simply kept), so ids are never removed.
    "repeated_ids": """
    CREATE TABLE IF NOT EXISTS raw.repeated_ids (
        entity VARCHAR NOT NULL,  -- interactions | service_requests
        id     VARCHAR NOT NULL
    )""",
    # The columns the loader did not read in a loaded file: one row per note, the text of
    # its LoadSummary note ("1 column(s) not in the contract, ignored: 'caller_name'"), kept
    # so that the report's data notes say it on every later run too (an unchanged file is not
    # loaded again). Names of columns only: a value is never read from an ignored column.
    "load_notes": """
    CREATE TABLE IF NOT EXISTS raw.load_notes (
        source_file VARCHAR NOT NULL,
        note        VARCHAR NOT NULL
    )""",
    # One row per rejected row (the first problem found in it). The offending value is not
    # stored: it could be personal data.
    "rejects": """
    CREATE TABLE IF NOT EXISTS raw.rejects (
        source_file VARCHAR NOT NULL,
        entity      VARCHAR NOT NULL,
        line        BIGINT NOT NULL,
        "column"    VARCHAR NOT NULL,
        reason      VARCHAR NOT NULL
    )""",
}


STATUS_MAP = {
    "new": "initiated",
    "initiated": "initiated",
    "in_progress": "in_progress",
    "inprogress": "in_progress",
    "closed": "closed",
    "completed": "closed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "unknown": "unknown",
}



@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # text | ts | date | seconds | count | bool | coord | channel | itype | outcome | status
    required: bool = False


ENTITIES: dict[str, list[Col]] = {
    "interactions": [
        Col("interaction_id", "text", True),
        Col("started_at", "ts", True),
        Col("channel", "channel", True),
        Col("interaction_type", "itype", True),
        Col("topic", "text"),
        Col("outcome", "outcome"),
        Col("queue_seconds", "seconds"),
        Col("handle_seconds", "seconds"),
        Col("transferred", "bool"),
        Col("responded_at", "ts"),
        Col("sr_id", "text"),
        Col("language", "text"),
    ],
    "service_requests": [
        Col("sr_id", "text", True),
        Col("created_at", "ts", True),
        Col("closed_at", "ts"),
        Col("status", "status", True),
        Col("sr_type", "text", True),
        Col("division", "text", True),
        Col("section", "text"),
        Col("ward", "text"),
        Col("fsa", "text"),
        Col("intersection_1", "text"),
        Col("intersection_2", "text"),
        Col("latitude", "coord"),
        Col("longitude", "coord"),
        Col("bia", "text"),
        Col("channel", "channel"),
        Col("due_at", "ts"),
        Col("updated_at", "ts"),
    ],
    "kb_views": [
        Col("date", "date", True),
        Col("article_id", "text", True),
        Col("article_title", "text", True),
        Col("views", "count", True),
    ],
}
# Columns used as hash-join keys when looking for an exact duplicate in earlier deliveries.
DEDUP_KEYS = {
    "interactions": ["interaction_id"],
    "service_requests": ["sr_id"],
    "kb_views": ["date", "article_id"],
}

OPEN_DATA_VARIANTS: dict[str, dict[str, str]] = {
    # normalised header name -> contract column
    "A": {
        "creation_date": "created_at",
        "status": "status",
        "first_3_chars_of_postal_code": "fsa",
        "intersection_street_1": "intersection_1",
        "intersection_street_2": "intersection_2",
        "ward": "ward",
        "service_request_type": "sr_type",
        "division": "division",
        "section": "section",
    },
    "B": {
        "service_request_creation_date_and_time": "created_at",
        "service_request_location": "location",
        "original_service_request_type": "sr_type",
        "service_request_status": "status",
        "service_request_division": "division",
        "service_request_section_unit": "section",
        "service_request_ward": "ward",
    },
}
OPEN_DATA_REQUIRED = {"created_at", "status", "sr_type", "division"}

ENTITY_PREFIXES = ("interactions", "service_requests", "kb_views")
YEAR_EXTS = (".csv", ".csv.gz", ".parquet")
OPEN_DATA_EXTS = (".csv", ".csv.gz", ".zip")
OPEN311_FOLDER = "open311"  # raw/open311/: Open311 GeoReport v2 request lists
OPEN311_EXTS = (".json", ".json.gz")
# folders of service-request files in a format of their own: folder -> (extensions, format)
SR_FOLDERS = {"open_data": (OPEN_DATA_EXTS, "open_data"), OPEN311_FOLDER: (OPEN311_EXTS, "open311")}


def vocabularies() -> dict[str, tuple[str, ...]]:
    """The contract's words for the columns a mapping's ``values`` map onto."""
    return {"status": SR_STATUSES, "channel": CHANNELS, "interaction_type": INTERACTION_TYPES,
            "outcome": OUTCOMES}


def mappings(raw_dir: Path) -> list[Mapping]:
    """The raw folder's mapping files (``raw/mapped/*.yaml``), checked against the contract."""
    columns = {entity: {c.name: c.required for c in cols} for entity, cols in ENTITIES.items()}
    return read_mappings(Path(raw_dir), columns, vocabularies())

# --------------------------------------------------------------------------- limits
# A CSV field longer than this many bytes (UTF-8) rejects its row as "field too long" (and so
# does a longer text value in a Parquet file's contract column).
FIELD_MAX_BYTES = 1 << 20  # 1 MiB
# Plausibility (the row is rejected, reason "implausible date" / "implausible duration"):
# a timestamp or date before EARLIEST_PLAUSIBLE (local time), or later than the file's extract
# time (see extract_time) plus FUTURE_TOLERANCE; queue or handle seconds above
# MAX_PLAUSIBLE_SECONDS (one day).
EARLIEST_PLAUSIBLE = dt.date(2000, 1, 1)
FUTURE_TOLERANCE = dt.timedelta(days=1)
MAX_PLAUSIBLE_SECONDS = 86_400


@dataclass
class SourceFile:
    path: Path
    rel: str
    entity: str
    file_format: str  # csv | csv.gz | parquet | open_data | open311 | mapped
    sha256: str
    size: int
    mtime_ns: int
    rank: int = 0  # place in the delivery order (deliveries.reconcile fixes it)
    batch: int = 0  # the load run that placed it (deliveries.reconcile)
    mapping: Mapping | None = None  # the mapping a mapped file is read through


def _ext(name: str, exts: tuple[str, ...]) -> str | None:
    low = name.lower()
    for ext in sorted(exts, key=len, reverse=True):
        if low.endswith(ext):
            return ext
    return None


def extract_paths(raw_dir: Path) -> list[tuple[Path, str, str]]:
    """(path, entity, format) of every file the contract covers, in name order.

    ``<raw>/<YYYY>/{interactions,service_requests,kb_views}*.{csv,csv.gz,parquet}``,
    ``<raw>/open_data/*.{csv,csv.gz,zip}`` (service requests in the City's Open Data format),
    ``<raw>/open311/*.{json,json.gz}`` (Open311 GeoReport v2 requests) and the files each
    ``<raw>/mapped/*.yaml`` mapping covers (format ``mapped``).
    """
    found: list[tuple[Path, str, str]] = []
    if not raw_dir.is_dir():
        return found
    for path, m in sorted(covered(mappings(raw_dir)).items()):
        found.append((path, m.entity, "mapped"))
    for sub in sorted(raw_dir.iterdir()):
        if sub.is_dir() and re.fullmatch(r"\d{4}", sub.name):
            for f in sorted(sub.iterdir()):
                if not f.is_file() or f.name.startswith("."):
                    continue
                ext = _ext(f.name, YEAR_EXTS)
                entity = next((p for p in ENTITY_PREFIXES if f.name.lower().startswith(p)), None)
                if ext and entity:
                    found.append((f, entity, ext.lstrip(".")))
        elif sub.is_dir() and sub.name in SR_FOLDERS:
            exts, fmt = SR_FOLDERS[sub.name]
            found += [(f, "service_requests", fmt) for f in sorted(sub.iterdir())
                      if f.is_file() and not f.name.startswith(".") and _ext(f.name, exts)]
    return sorted(found, key=lambda t: t[0])


IGNORED_NAMES = ("DEMO_DATA.md",)  # plus README* files, dotfiles and the folders below
IGNORED_FOLDERS = ("reference", "narrative")  # read by other stages, not extracts


def non_extract_paths(raw_dir: Path) -> list[tuple[str, str]]:
    """(path relative to ``raw_dir``, why it is not read) of every file in the raw folder that
    :func:`extract_paths` does not cover, in name order. Not listed: README* files,
    ``DEMO_DATA.md``, dotfiles and dot-folders, and the ``reference/`` and ``narrative/``
    folders (read by other stages)."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    extracts = {p for p, _, _ in extract_paths(raw_dir)} | set(mapping_files(raw_dir))
    found = []
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir)
        if (not path.is_file() or path in extracts or any(p.startswith(".") for p in rel.parts)
                or rel.parts[0] in IGNORED_FOLDERS or path.name in IGNORED_NAMES
                or path.name.upper().startswith("README")):
            continue
        found.append((rel.as_posix(), _why_not_read(rel)))
    return found


def _why_not_read(rel: Path) -> str:
    top, name = rel.parts[0], rel.name.lower()
    if top == MAPPED_FOLDER:
        return (f"no mapping in {MAPPED_FOLDER}/ covers it: add its name or a glob to a mapping's `files` "
                "(docs/bring-your-own-extracts.md)")
    if top == OPEN311_FOLDER:
        return f"{OPEN311_FOLDER}/ reads only Open311 GeoReport v2 .json and .json.gz files"
    if name.endswith((".json", ".json.gz")):
        return (f"a JSON file is read only in {OPEN311_FOLDER}/ (an Open311 GeoReport v2 request list) "
                f"or through a mapping in {MAPPED_FOLDER}/")
    if len(rel.parts) == 2 and re.fullmatch(r"\d{4}", top):
        if name.endswith(".zip"):
            return ("a zip archive in a year folder is not read (only open_data/ reads .zip "
                    "files); unzip it into the year folder")
        return ("its name or type is not an extract's: a year folder holds interactions*, "
                "service_requests* and kb_views* files (.csv, .csv.gz or .parquet)")
    if len(rel.parts) == 2 and top == "open_data":
        return "open_data/ reads only .csv, .csv.gz and .zip files"
    if len(rel.parts) == 1:
        return ("a file at the top of the raw folder is not read; extracts go in <YEAR>/, open_data/, "
                f"{OPEN311_FOLDER}/ or, with a mapping, {MAPPED_FOLDER}/")
    return ("not in a folder that is read: extracts go directly in <YEAR>/ (4 digits), open_data/, "
            f"{OPEN311_FOLDER}/ or, with a mapping, {MAPPED_FOLDER}/")


def has_extracts(raw_dir: Path) -> bool:
    """True when ``raw_dir`` holds at least one file the contract covers."""
    return bool(extract_paths(Path(raw_dir)))


def is_demo(raw_dir: Path) -> bool:
    """True when the extracts are the generated demo data set (it leaves a marker file)."""
    return (Path(raw_dir) / DEMO_MARKER).exists()


def demo_files(raw_dir: Path) -> dict[str, str]:
    """{path relative to raw_dir: SHA-256} of the demo files listed in the demo marker."""
    marker = Path(raw_dir) / DEMO_MARKER
    if not marker.is_file():
        return {}
    lines = marker.read_text(encoding="utf-8").splitlines()
    return {m.group(2): m.group(1) for m in map(_DEMO_LINE.fullmatch, lines) if m}


_DEMO_LINE = re.compile(r"([0-9a-f]{64})  (\S.*)")


def foreign_extracts(raw_dir: Path) -> list[str]:
    """Extracts in a demo folder that the demo generator did not write (or that changed since):
    demo and real rows must never mix."""
    listed = demo_files(raw_dir)
    return [rel for rel in (p.relative_to(raw_dir).as_posix() for p, _, _ in extract_paths(Path(raw_dir)))
            if listed.get(rel) != sha256(Path(raw_dir) / rel)]


def extract_time(sf: SourceFile, tz: str) -> dt.datetime:
    """The file's extract time, from which its future timestamps are implausible: its
    modification time or, for a file in a year folder, the end of that year (local), whichever
    is later. It depends on this file only, so loading a file gives the same rows whatever
    else is in the folder (incremental loads equal a fresh load)."""
    mtime = dt.datetime.fromtimestamp(sf.mtime_ns / 1e9, dt.UTC)
    year = re.match(r"(\d{4})/", sf.rel)
    if not year:
        return mtime
    next_year = min(int(year.group(1)), 9998) + 1  # a folder named 9999 must not overflow
    return max(mtime, dt.datetime(next_year, 1, 1, tzinfo=ZoneInfo(tz)).astimezone(dt.UTC))


def plausible_range(sf: SourceFile, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """(earliest, latest) plausible instant of a timestamp in the file: EARLIEST_PLAUSIBLE at
    local midnight, and the file's extract time plus FUTURE_TOLERANCE."""
    earliest = dt.datetime.combine(EARLIEST_PLAUSIBLE, dt.time(), ZoneInfo(tz)).astimezone(dt.UTC)
    return earliest, extract_time(sf, tz) + FUTURE_TOLERANCE


def discover(raw_dir: Path) -> list[SourceFile]:
    """The files the contract covers, in the order a load places new deliveries (mtime, then
    name, then path); ``deliveries.reconcile`` keeps the place of a file already loaded."""
    files = []
    through = covered(mappings(raw_dir))
    found = list(extract_paths(raw_dir))
    # hashed side by side (hashlib gives the lock up while it hashes): at 10x Toronto's volume
    # one after another took about 0.45 s of every load, a rerun's included
    with ThreadPoolExecutor(max_workers=max(1, min(len(found), os.cpu_count() or 1))) as pool:
        digests = list(pool.map(sha256, [path for path, _, _ in found]))
    for (path, entity, fmt), digest in zip(found, digests, strict=True):
        st = path.stat()
        files.append(
            SourceFile(
                path=path,
                rel=path.relative_to(raw_dir).as_posix(),
                entity=entity,
                file_format=fmt,
                sha256=digest,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                mapping=through.get(path),
            )
        )
    files.sort(key=lambda s: (s.mtime_ns, s.path.name, s.rel))
    for i, s in enumerate(files, start=1):
        s.rank = i
    return files
