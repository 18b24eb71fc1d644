"""The loader's answers to five observed defects (each test failed on the loader before):
rows lost or misnumbered in CSV files, silent mojibake, quoted line breaks, implausible values,
and inputs ignored without a word."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline import contract
from pipeline.contract import SourceFile, extract_time, non_extract_paths, plausible_range
from pipeline.ingest import LoadError, load
from pipeline.ingest import csv_rows as csv_rows_module
from pipeline.ingest.checks import problem_expr
from pipeline.ingest.loader import LoadNote
from tests.unit.test_ingest_support import HEADERS, parquet, q, row, text

UTC = dt.UTC
TORONTO = "America/Toronto"  # the shipped profile's time zone


def write(raw: Path, rel: str, data: bytes | str, mtime: float | None = None) -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def audit(db: Path) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in q(db, "SELECT source_file, encoding, rows_read, rows_loaded, "
                                       "rows_rejected, duplicates_collapsed FROM raw.load_audit")}


def rejects(db: Path) -> list[tuple]:
    return q(db, 'SELECT source_file, line, "column", reason FROM raw.rejects ORDER BY 1, 2')


def ir(key: str, **values: str) -> str:
    return row("interactions", key, **values)


# ---------------------------------------------------------------- 1. rows lost or misnumbered


def test_last_line_with_a_33_mb_field_is_counted_and_rejected(raw_dir, db_path):
    # before: the 3,000th row vanished (read 2,999, loaded 2,999, exit 0)
    rows = [ir(f"I{n}") for n in range(1, 3000)] + [ir("LONG", topic="x" * 33_600_000)]  # > 32 MiB
    write(raw_dir, "2024/interactions.csv", text("interactions", rows))
    s = load(raw_dir, db_path)
    assert audit(db_path) == {"2024/interactions.csv": ("utf-8", 3000, 2999, 1, 0)}
    assert rejects(db_path) == [("2024/interactions.csv", 3001, "topic", "field too long")]
    assert (s.rows_read, s.rows_loaded, s.rows_rejected) == (3000, 2999, 1)
    assert contract.FIELD_MAX_BYTES == 1 << 20


def test_long_line_mid_file_rejects_only_its_row(raw_dir, db_path):
    # before: "could not be read as CSV (CSV Error on Line: 1)"
    write(raw_dir, "2024/interactions.csv",
          text("interactions", [ir("I1"), ir("I2", topic="y" * 3_000_000), ir("I3")]))
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert rejects(db_path) == [("2024/interactions.csv", 3, "topic", "field too long")]
    assert q(db_path, "SELECT interaction_id, _source_line FROM raw.interactions ORDER BY 2") == [
        ("I1", 2), ("I3", 4)]


def test_wrong_field_counts_and_quoted_line_breaks(raw_dir, db_path):
    # before: a short row was padded and loaded, a quoted line break failed the whole file
    # ("CSV Error on Line: 102") or shifted the line numbers of the rows after it
    rows = [ir(f"I{n}") for n in range(1, 101)]
    rows += [ir("Q1", topic='"first line\nsecond line"'), ir("Q2", channel="fax"),
             "SHORT,2024-07-16 15:04:05,email,general_inquiry", ir("LONG") + ",extra", "",
             ir("Q3", topic='"a\r\nb"'), ir("I1")]
    write(raw_dir, "2024/interactions.csv", text("interactions", rows))
    s = load(raw_dir, db_path, max_reject_rate=1.0)
    assert rejects(db_path) == [
        ("2024/interactions.csv", 104, "channel", "unknown channel"),
        ("2024/interactions.csv", 105, "(row)", "4 fields, expected 12"),
        ("2024/interactions.csv", 106, "(row)", "13 fields, expected 12"),
    ]
    assert q(db_path, "SELECT _source_line, topic FROM raw.interactions "
                      "WHERE interaction_id LIKE 'Q%' ORDER BY 1") == [
        (102, "first line\nsecond line"), (108, "a\r\nb")]
    # 106 records (the blank line is none): I1-I100, Q1 and Q3 loaded, 3 rejected, I1 again collapsed
    assert audit(db_path)["2024/interactions.csv"] == ("utf-8", 106, 102, 3, 1)
    assert (s.rows_read, s.rows_loaded, s.rows_rejected, s.duplicates_collapsed) == (106, 102, 3, 1)


def test_unterminated_quote_names_the_line_where_it_starts(raw_dir, db_path):
    # before: "Error when sniffing file", with no line
    write(raw_dir, "2024/interactions.csv",
          text("interactions", [ir("I1"), ir("I2", topic='"never closed'), ir("I3"), ir("I4")]))
    with pytest.raises(LoadError) as e:
        load(raw_dir, db_path)
    assert ("interactions.csv: the quoted field that starts on line 3 is never closed (no closing "
            "quote before the end of the file), so the rest of the file (lines 3 to 5) cannot be "
            "split into rows.") in str(e.value)


def test_both_csv_parsers_give_the_same_rows(raw_dir, db_path, monkeypatch):
    """Arrow's fast reader and the exact row-by-row one agree, rejects and line numbers too."""
    rows = [ir("I1", topic='"a\nb"'), "", ir("I2", channel="fax"), "I3,x", ir("I4", topic="x" * 40),
            ir("I5") + ",x", ir("I6", topic='"say ""hi"""')]
    write(raw_dir, "2024/interactions.csv", text("interactions", rows, end="\r\n"))
    contract_limit = 32
    monkeypatch.setattr(contract, "FIELD_MAX_BYTES", contract_limit)
    load(raw_dir, db_path, max_reject_rate=1.0)
    fast = (q(db_path, "SELECT * EXCLUDE (_delivery_rank) FROM raw.interactions ORDER BY _source_line"),
            rejects(db_path))
    monkeypatch.setattr(csv_rows_module, "_fast", lambda *args: None)
    other = db_path.with_name("exact.duckdb")
    load(raw_dir, other, max_reject_rate=1.0)
    exact = (q(other, "SELECT * EXCLUDE (_delivery_rank) FROM raw.interactions ORDER BY _source_line"),
             rejects(other))
    assert fast == exact
    assert [r[1:] for r in fast[1]] == [(5, "channel", "unknown channel"), (6, "(row)", "2 fields, expected 12"),
                                        (7, "topic", "field too long"), (8, "(row)", "13 fields, expected 12")]


# ---------------------------------------------------------------- 2. encodings


def test_utf8_file_with_one_bad_byte_keeps_its_accents(raw_dir, db_path):
    # before: the whole file was read as Windows-1252: "Café" became "CafÃ©"
    data = text("interactions", [ir("I1", topic="Café"), ir("I2", topic="BAD"), ir("I3", topic="Crème brûlée")])
    write(raw_dir, "2024/interactions.csv", data.encode().replace(b"BAD", b"B\xe9d"))
    write(raw_dir, "2024/kb_views.csv",
          text("kb_views", [row("kb_views", "A1", article_title="Déchets")]).encode("cp1252"))
    s = load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT topic FROM raw.interactions ORDER BY 1") == [("Café",), ("Crème brûlée",)]
    assert rejects(db_path) == [("2024/interactions.csv", 3, "topic", "invalid UTF-8 at byte 2 of the value")]
    assert q(db_path, "SELECT article_title FROM raw.kb_views") == [("Déchets",)]
    assert s.encodings == {"2024/interactions.csv": "utf-8", "2024/kb_views.csv": "cp1252"}
    assert [str(n) for n in s.notes] == [
        "2024/kb_views.csv: read as Windows-1252: the file is not UTF-8 (it has no UTF-8 multi-byte "
        "character); if its accents look wrong, export it again as CSV UTF-8"]


# ---------------------------------------------------------------- 4. plausibility


def test_implausible_dates_and_durations_are_rejected(raw_dir, db_path):
    # before: three SRs dated 2099, 9999 and 1900 and one queue of 2,000,000,000 s were loaded
    srs = [row("service_requests", "S1", created_at="2099-01-01 00:00:00"),
           row("service_requests", "S2", created_at="9999-12-31 12:00:00"),
           row("service_requests", "S3", created_at="1900-01-01 00:00:00"),
           row("service_requests", "S4", created_at="2000-01-01 00:00:00"),  # the first plausible instant
           row("service_requests", "S5", created_at="1999-12-31 23:59:59")]
    write(raw_dir, "2024/service_requests.csv", text("service_requests", srs))
    contacts = [ir("I1", channel="phone", outcome="answered", queue_seconds="2000000000", handle_seconds="60"),
                ir("I2", channel="phone", outcome="answered", queue_seconds="44", handle_seconds="86400")]
    write(raw_dir, "2024/interactions.csv", text("interactions", contacts))
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert rejects(db_path) == [
        ("2024/interactions.csv", 2, "queue_seconds", "implausible duration"),
        ("2024/service_requests.csv", 2, "created_at", "implausible date"),
        ("2024/service_requests.csv", 3, "created_at", "implausible date"),
        ("2024/service_requests.csv", 4, "created_at", "implausible date"),
        ("2024/service_requests.csv", 6, "created_at", "implausible date"),
    ]
    assert q(db_path, "SELECT sr_id FROM raw.service_requests") == [("S4",)]
    assert q(db_path, "SELECT interaction_id FROM raw.interactions") == [("I2",)]


def test_the_future_bound_is_the_files_extract_time(raw_dir, db_path):
    """A file's extract time: its modification time, or the end of its year folder if later;
    a timestamp more than one day after it is implausible. Old modification times (as tests
    set to order deliveries) keep the year folder's dates plausible."""
    old = dt.datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp()
    year_rows = [ir("Y1", started_at="2024-12-31 23:00:00"), ir("Y2", started_at="2025-01-01 23:00:00"),
                 ir("Y3", started_at="2025-01-02 01:00:00")]  # 2025-01-02 06:00 UTC: over a day late
    write(raw_dir, "2024/interactions.csv", text("interactions", year_rows), mtime=old)
    od = ("Creation Date,Status,Service Request Type,Division\n"
          "2024-03-02 07:00:00.0000000,New,Noise,MLS\n"  # 12:00 UTC, one day after: plausible
          "2024-03-02 07:00:01.0000000,New,Noise,MLS\n")
    write(raw_dir, "open_data/sr.csv", od, mtime=old)
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert rejects(db_path) == [
        ("2024/interactions.csv", 4, "started_at", "implausible date"),
        ("open_data/sr.csv", 3, "created_at", "implausible date"),
    ]
    sf = SourceFile(raw_dir / "open_data/sr.csv", "open_data/sr.csv", "service_requests", "open_data",
                    "", 0, int(old * 1e9))
    assert extract_time(sf, TORONTO) == dt.datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert plausible_range(sf, TORONTO) == (dt.datetime(2000, 1, 1, 5, tzinfo=UTC), dt.datetime(2024, 3, 2, 12, tzinfo=UTC))
    year = SourceFile(raw_dir / "2024/x.csv", "2024/x.csv", "interactions", "csv", "", 0, int(old * 1e9))
    assert extract_time(year, TORONTO) == dt.datetime(2025, 1, 1, 5, tzinfo=UTC)  # midnight in Toronto


def test_plausibility_limits_are_contract_settings(monkeypatch):
    assert (contract.EARLIEST_PLAUSIBLE, contract.FUTURE_TOLERANCE, contract.MAX_PLAUSIBLE_SECONDS) == (
        dt.date(2000, 1, 1), dt.timedelta(days=1), 86_400)
    assert '"queue_seconds" > 86400' in problem_expr("interactions")
    monkeypatch.setattr(contract, "MAX_PLAUSIBLE_SECONDS", 3600)
    monkeypatch.setattr(contract, "EARLIEST_PLAUSIBLE", dt.date(2010, 1, 1))
    assert '"queue_seconds" > 3600' in problem_expr("interactions")
    assert "\"date\" NOT BETWEEN DATE '2010-01-01' AND" in problem_expr("kb_views")


# ---------------------------------------------------------------- 5. nothing ignored silently


NOT_A_FOLDER_READ = ("not in a folder that is read: extracts go directly in <YEAR>/ (4 digits), open_data/, "
                     "open311/ or, with a mapping, mapped/")
AT_THE_TOP = ("a file at the top of the raw folder is not read; extracts go in <YEAR>/, open_data/, open311/ "
              "or, with a mapping, mapped/")


def test_non_extract_paths_lists_what_is_not_read(raw_dir):
    for rel in ("2024/interactions.csv", "2024/calls_2024.csv", "2024/interactions.zip", "2024/notes.txt",
                "2024/sub/interactions.csv", "open_data/sr.xlsx", "open_data/sr.csv", "misc/x.csv",
                "extract.csv", "README.md", "raw_README.txt", "DEMO_DATA.md", ".DS_Store",
                "2024/.hidden.csv", "reference/bia_contacts.csv", "narrative/2024/intro.md"):
        write(raw_dir, rel, "x")
    assert non_extract_paths(raw_dir) == [
        ("2024/calls_2024.csv", "its name or type is not an extract's: a year folder holds "
         "interactions*, service_requests* and kb_views* files (.csv, .csv.gz or .parquet)"),
        ("2024/interactions.zip", "a zip archive in a year folder is not read (only open_data/ "
         "reads .zip files); unzip it into the year folder"),
        ("2024/notes.txt", "its name or type is not an extract's: a year folder holds "
         "interactions*, service_requests* and kb_views* files (.csv, .csv.gz or .parquet)"),
        ("2024/sub/interactions.csv", NOT_A_FOLDER_READ),
        ("extract.csv", AT_THE_TOP),
        ("misc/x.csv", NOT_A_FOLDER_READ),
        ("open_data/sr.xlsx", "open_data/ reads only .csv, .csv.gz and .zip files"),
        ("raw_README.txt", AT_THE_TOP),
    ]


def test_ignored_files_columns_and_nul_bytes_are_reported(raw_dir, db_path):
    # before: all of these were skipped or stored without a word (and a NUL byte in the first
    # 64 KiB failed the file as "binary data")
    write(raw_dir, "2024/calls_2024.csv", "a,b\n1,2\n")
    with zipfile.ZipFile(raw_dir / "2024" / "interactions_2024.zip", "w") as z:
        z.writestr("interactions.csv", "x")
    header = HEADERS["interactions"] + ",caller_name,Channel,"
    write(raw_dir, "2024/interactions.csv",
          text("interactions", [ir("I1") + ",Zelda,web,", ir("I2", topic="a\x00b") + ",,,"], header=header))
    write(raw_dir, "2024/service_requests.parquet", parquet({
        "sr_id": ["S1", "S2"], "created_at": ["2024-07-16 15:04:05"] * 2, "status": ["New"] * 2,
        "sr_type": ["T", "T\x00"], "division": ["D"] * 2, "tags": pa.array([["a"], []])}))
    s = load(raw_dir, db_path, max_reject_rate=1.0)
    assert s.notes == [
        LoadNote("2024/calls_2024.csv", "ignored: its name or type is not an extract's: a year folder "
                 "holds interactions*, service_requests* and kb_views* files (.csv, .csv.gz or .parquet)"),
        LoadNote("2024/interactions_2024.zip", "ignored: a zip archive in a year folder is not read "
                 "(only open_data/ reads .zip files); unzip it into the year folder"),
        LoadNote("2024/interactions.csv", "2 column(s) not in the contract, ignored: 'caller_name', "
                 "column 15 (no name)"),
        LoadNote("2024/interactions.csv", "1 column(s) ignored because an earlier column has the same "
                 "name: 'Channel'"),
        LoadNote("2024/service_requests.parquet", "1 column(s) not in the contract, ignored: 'tags'"),
    ]
    assert rejects(db_path) == [("2024/interactions.csv", 3, "topic", "NUL character"),
                                ("2024/service_requests.parquet", 3, "sr_type", "NUL character")]
    assert q(db_path, "SELECT interaction_id, channel FROM raw.interactions") == [("I1", "email")]


def notes(db: Path) -> list[tuple]:
    return q(db, "SELECT source_file, note FROM raw.load_notes ORDER BY 1, 2")


def test_column_notes_are_kept_and_go_with_their_file(raw_dir, db_path):
    # The notes on a loaded file's columns are kept in raw.load_notes (the report's data notes
    # read them on every later run, when the unchanged file is skipped), in the load's
    # transaction; they are replaced with the file and removed with it. The encoding is in
    # raw.load_audit: the Windows-1252 note is not a column note and is not kept.
    interactions = text("interactions", [ir("I1") + ",Zelda,web"],
                        header=HEADERS["interactions"] + ",caller_name,Channel")
    write(raw_dir, "2024/interactions.csv", interactions, mtime=1_700_000_000)
    # "Caf\xe9" is é in Windows-1252 and no UTF-8 multi-byte character is in the file
    write(raw_dir, "2024/kb_views.csv", b"date,article_id,article_title,views,Notes\n"
          b"2024-07-16,A1,Caf\xe9,1,x\n", mtime=1_700_000_001)
    write(raw_dir, "2024/service_requests.parquet", parquet({
        "sr_id": ["S1"], "created_at": ["2024-07-16 15:04:05"], "status": ["New"],
        "sr_type": ["T"], "division": ["D"], "tags": pa.array([["a"]])}), mtime=1_700_000_002)
    write(raw_dir, "2024/notes.txt", "not an extract")
    first = load(raw_dir, db_path)
    kept = [
        ("2024/interactions.csv", "1 column(s) ignored because an earlier column has the same "
                                  "name: 'Channel'"),
        ("2024/interactions.csv", "1 column(s) not in the contract, ignored: 'caller_name'"),
        ("2024/kb_views.csv", "1 column(s) not in the contract, ignored: 'Notes'"),
        ("2024/service_requests.parquet", "1 column(s) not in the contract, ignored: 'tags'"),
    ]
    assert notes(db_path) == kept
    # the console's notes: the file that is not read, then the loaded files' notes in delivery
    # order (mtime): the same four, and the Windows-1252 note that raw.load_audit says instead
    assert [(n.file, n.note) for n in first.notes] == [
        ("2024/notes.txt", "ignored: its name or type is not an extract's: a year folder holds "
         "interactions*, service_requests* and kb_views* files (.csv, .csv.gz or .parquet)"),
        kept[1], kept[0], kept[2],
        ("2024/kb_views.csv", "read as Windows-1252: the file is not UTF-8 (it has no UTF-8 "
         "multi-byte character); if its accents look wrong, export it again as CSV UTF-8"),
        kept[3],
    ]
    assert {k: v[0] for k, v in audit(db_path).items()} == {
        "2024/interactions.csv": "utf-8", "2024/kb_views.csv": "cp1252",
        "2024/service_requests.parquet": None}
    # an unchanged folder: nothing is loaded, the summary has no column note, the table keeps them
    again = load(raw_dir, db_path)
    assert again.files_loaded == [] and [n.file for n in again.notes] == ["2024/notes.txt"]
    assert notes(db_path) == kept
    # interactions.csv changed (caller_name gone): its notes are replaced; kb_views.csv removed:
    # its notes go with its rows; the Parquet file is unchanged and keeps its note
    write(raw_dir, "2024/interactions.csv", text("interactions", [ir("I1") + ",web"],
                                                 header=HEADERS["interactions"] + ",Channel"),
          mtime=1_700_000_000)
    (raw_dir / "2024" / "kb_views.csv").unlink()
    third = load(raw_dir, db_path)
    assert third.files_loaded == ["2024/interactions.csv"]
    assert notes(db_path) == [kept[0], kept[3]]
    assert set(audit(db_path)) == {"2024/interactions.csv", "2024/service_requests.parquet"}


def test_a_warehouse_without_load_notes_is_loaded_again_once(raw_dir, db_path):
    # a warehouse loaded before raw.load_notes existed: its files' notes are unknown, so the
    # next run loads every file again (once) and the notes are there, the rows the same
    write(raw_dir, "2024/interactions.csv", text("interactions", [ir("I1"), ir("I1")],
                                                 header=HEADERS["interactions"]))
    write(raw_dir, "2024/service_requests.parquet", parquet({
        "sr_id": ["S1"], "created_at": ["2024-07-16 15:04:05"], "status": ["New"],
        "sr_type": ["T"], "division": ["D"], "tags": pa.array([["a"]])}))
    load(raw_dir, db_path)
    rows = q(db_path, "SELECT * FROM raw.interactions")
    before = audit(db_path)
    con = duckdb.connect(str(db_path))
    con.execute("DROP TABLE raw.load_notes")
    con.close()
    s = load(raw_dir, db_path)
    assert s.files_loaded == ["2024/interactions.csv", "2024/service_requests.parquet"]
    assert s.files_skipped == []
    assert notes(db_path) == [("2024/service_requests.parquet",
                               "1 column(s) not in the contract, ignored: 'tags'")]
    # I1 twice: 2 read, 1 loaded, 1 exact duplicate collapsed, as in the first load
    assert audit(db_path) == before and before["2024/interactions.csv"] == ("utf-8", 2, 1, 0, 1)
    assert q(db_path, "SELECT * FROM raw.interactions") == rows
    assert load(raw_dir, db_path).files_loaded == []  # and only once


def test_reject_reasons_include_the_bounds():
    reasons = {r for entity in contract.ENTITIES
               for r in re.findall(r"'[a-z_0-9]+\|([^']+)'", problem_expr(entity))}
    assert reasons == {  # the documented fixed phrases (the loader docstring, docs/data-contract.md)
        "required value missing", "unparseable timestamp", "unparseable date", "unknown channel",
        "unknown interaction type", "unknown outcome", "unknown status", "invalid boolean",
        "negative seconds", "non-integer seconds", "negative count", "non-integer count",
        "invalid coordinate", "closed before created",
        "implausible date", "implausible duration", "NUL character", "field too long",
    }


def test_bom_is_utf8_even_with_a_bad_byte(tmp_path):
    from pipeline.ingest.csv_files import inspect_csv

    path = write(tmp_path, "x.csv", codecs.BOM_UTF8 + b"a,b\nCaf\xe9,1\n")
    got = inspect_csv(path, path, tmp_path)
    assert (got.encoding, got.bad_utf8, got.skip) == ("utf-8-sig", True, 3)
