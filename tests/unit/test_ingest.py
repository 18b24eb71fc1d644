"""Tests for pipeline.ingest with tiny hand-written fixtures (exact values asserted)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.contract import ENTITIES
from pipeline.ingest import LoadError, load
from pipeline.ingest.checks import column_checks, problem_expr
from pipeline.ingest.csv_files import prepare_csv
from tests.unit.test_ingest_support import q

UTC = dt.UTC
IH = (
    "interaction_id,started_at,channel,interaction_type,topic,outcome,queue_seconds,"
    "handle_seconds,transferred,responded_at,sr_id,language"
)
SH = "sr_id,created_at,closed_at,status,sr_type,division,section,ward,latitude,longitude,bia"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def audit(db: Path) -> list[tuple]:
    return q(
        db,
        "SELECT source_file, entity, file_format, encoding, delivery_rank, rows_read, "
        "rows_loaded, rows_rejected, duplicates_collapsed FROM raw.load_audit ORDER BY 1",
    )


def all_tables(db: Path) -> dict[str, list[tuple]]:
    names = [
        r[0] for r in q(db, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'")
    ]
    return {n: sorted(q(db, f"SELECT * FROM raw.{n}"), key=repr) for n in sorted(names)}


def sr_file(rows: list[str]) -> str:
    return "\n".join([SH, *rows])


# ---------------------------------------------------------------- row problems


def test_interaction_row_rejects_exact(raw_dir, db_path, write_csv):
    write_csv(
        "2024/interactions.csv",
        f"""
        {IH}
        I01,2024-07-16 15:04:05,phone,general_inquiry,Tax,answered,10,100,true,,,en
        I02,not a time,phone,general_inquiry,,answered,10,100,,,,
        I03,2024-07-16 15:04:05,fax,general_inquiry,,,,,,,,
        I04,2024-07-16 15:04:05,email,complaint,,,,,,,,
        I05,2024-07-16 15:04:05,phone,general_inquiry,,hung_up,10,100,,,,
        I06,2024-07-16 15:04:05,phone,general_inquiry,,answered,-3,100,,,,
        I07,2024-07-16 15:04:05,phone,general_inquiry,,answered,10,1.5,,,,
        I08,2024-07-16 15:04:05,phone,general_inquiry,,answered,10,100,maybe,,,
        ,2024-07-16 15:04:05,email,general_inquiry,,,,,,,,
        I10,2024-07-16 15:04:05,phone,general_inquiry,,,10,100,,,,
        I11,2024-07-16 15:04:05,phone,general_inquiry,,abandoned,,,,,,
        I12,2024-07-16 15:04:05,live_chat,general_inquiry,,answered,,,,,,
        I13,2024-03-10 02:30:00,email,general_inquiry,,,,,,,,
        I14,2024-07-16 15:04:05,email,general_inquiry,,,,,,2024-07-16 99:00,,
        I15,2024-07-16 15:04:05,live_chat,status_update,,abandoned,,,no,,,fr
        """,
    )
    s = load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT * FROM raw.rejects ORDER BY line") == [
        ("2024/interactions.csv", "interactions", 3, "started_at", "unparseable timestamp"),
        ("2024/interactions.csv", "interactions", 4, "channel", "unknown channel"),
        ("2024/interactions.csv", "interactions", 5, "interaction_type", "unknown interaction type"),
        ("2024/interactions.csv", "interactions", 6, "outcome", "unknown outcome"),
        ("2024/interactions.csv", "interactions", 7, "queue_seconds", "negative seconds"),
        ("2024/interactions.csv", "interactions", 8, "handle_seconds", "non-integer seconds"),
        ("2024/interactions.csv", "interactions", 9, "transferred", "invalid boolean"),
        ("2024/interactions.csv", "interactions", 10, "interaction_id", "required value missing"),
        ("2024/interactions.csv", "interactions", 11, "outcome", "required value missing"),
        ("2024/interactions.csv", "interactions", 12, "queue_seconds", "required value missing"),
        ("2024/interactions.csv", "interactions", 13, "handle_seconds", "required value missing"),
        # spring-forward gap: 02:30 does not exist in Toronto on 2024-03-10 -> rejected
        ("2024/interactions.csv", "interactions", 14, "started_at", "unparseable timestamp"),
        ("2024/interactions.csv", "interactions", 15, "responded_at", "unparseable timestamp"),
    ]
    assert q(db_path, "SELECT interaction_id, _source_line FROM raw.interactions ORDER BY 1") == [
        ("I01", 2),
        ("I15", 16),
    ]
    assert q(
        db_path,
        "SELECT channel, interaction_type, topic, outcome, queue_seconds, handle_seconds, "
        "transferred, language FROM raw.interactions ORDER BY interaction_id",
    ) == [
        ("phone", "general_inquiry", "Tax", "answered", 10, 100, True, "en"),
        ("live_chat", "status_update", None, "abandoned", None, None, False, "fr"),
    ]
    assert audit(db_path) == [
        ("2024/interactions.csv", "interactions", "csv", "utf-8", 1, 15, 2, 13, 0)
    ]
    assert (s.rows_read, s.rows_loaded, s.rows_rejected, s.duplicates_collapsed) == (15, 2, 13, 0)


def test_service_request_row_rejects_exact(raw_dir, db_path, write_csv):
    write_csv(
        "2024/service_requests.csv",
        sr_file(
            [
                "S1,2024-07-16 15:04:05,2024-07-17 09:00:00,Closed,Pothole,Transportation,,"
                "Etobicoke Centre (02),43.6,-79.5,",
                "S2,2024-07-16 15:04:05,2024-07-15 09:00:00,Closed,Pothole,Transportation,,,,,",
                "S3,2024-07-16 15:04:05,,Reopened,Pothole,Transportation,,,,,",
                "S4,2024-07-16 15:04:05,,New,Pothole,,,,,,",
                "S5,2024-07-16 15:04:05,,New,Pothole,Transportation,,,95.0,-79.5,",
                "S6,,,New,Pothole,Transportation,,,,,",
            ]
        ),
    )
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT line, \"column\", reason FROM raw.rejects ORDER BY line") == [
        (3, "closed_at", "closed before created"),
        (4, "status", "unknown status"),
        (5, "division", "required value missing"),
        (6, "latitude", "invalid coordinate"),
        (7, "created_at", "required value missing"),
    ]
    assert q(
        db_path,
        "SELECT sr_id, created_at, closed_at, status, ward, latitude, closed_at_available "
        "FROM raw.service_requests",
    ) == [
        ("S1", utc(2024, 7, 16, 19, 4, 5), utc(2024, 7, 17, 13), "closed",
         "Etobicoke Centre (02)", 43.6, True)
    ]
    assert audit(db_path)[0][5:] == (6, 1, 5, 0)


def test_reject_rate_over_limit_fails_and_writes_nothing(raw_dir, db_path, write_csv):
    write_csv("2024/service_requests_a.csv", sr_file(["S1,2024-07-16 15:04:05,,New,T,D,,,,,"]),
              mtime=1_700_000_000)
    load(raw_dir, db_path)
    before = all_tables(db_path)
    rows = [f"S{i},2024-07-16 15:04:05,,New,T,D,,,,," for i in range(10, 107)]
    rows += ["S7,bad,,New,T,D,,,,,", "S8,worse,,New,T,D,,,,,", "S9,2024-07-16 15:04:05,,Nope,T,D,,,,,"]
    write_csv("2024/service_requests_b.csv", sr_file(rows), mtime=1_700_000_100)
    with pytest.raises(LoadError) as e:
        load(raw_dir, db_path)  # 3 of 100 rows = 3% > 1%
    msg = str(e.value)
    assert "service_requests_b.csv" in msg
    assert "3 of its 100 rows (3.0%)" in msg
    assert "'unparseable timestamp' in column created_at (2 rows, e.g. line 99)" in msg
    assert "'unparseable timestamp' in column created_at (1 row, e.g. line 101)" not in msg
    assert "Nothing from this run was loaded" in msg
    assert all_tables(db_path) == before
    # the same file loads with a higher limit
    s = load(raw_dir, db_path, max_reject_rate=0.05)
    assert s.files_loaded == ["2024/service_requests_b.csv"]
    assert s.rows_rejected == 3


# ---------------------------------------------------------------- file problems


def test_missing_required_column_names_it(raw_dir, db_path, write_csv):
    write_csv("2024/interactions.csv", "interaction_id,channel,interaction_type\nI1,phone,x\n")
    with pytest.raises(LoadError) as e:
        load(raw_dir, db_path)
    assert "interactions.csv" in str(e.value)
    assert "'started_at' is missing" in str(e.value)
    assert not db_path.exists() or all_tables(db_path) == {}


def test_file_problem_rolls_back_earlier_files(raw_dir, db_path, write_csv):
    write_csv("2024/service_requests.csv", sr_file(["S1,2024-07-16 15:04:05,,New,T,D,,,,,"]),
              mtime=1_700_000_000)
    load(raw_dir, db_path)
    before = all_tables(db_path)
    write_csv("2024/interactions.csv", f"{IH}\nI1,2024-07-16 15:04:05,email,general_inquiry,,,,,,,,",
              mtime=1_600_000_000)  # earlier delivery: loaded first, then the bad file fails
    write_csv("2024/service_requests_2.csv", "sr_id,created_at\nS2,2024-07-16\n",
              mtime=1_700_000_100)
    with pytest.raises(LoadError, match="service_requests_2.csv"):
        load(raw_dir, db_path)
    assert all_tables(db_path) == before


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("interactions.csv", b"", "the file is empty"),
        ("interactions.csv", b"\n  \n", "the file is empty"),
        ("interactions.csv", (IH + "\n").encode(), "no data rows"),
        ("interactions.csv", bytes(range(256)) * 20, "not a CSV file (it contains binary data)"),
        ("interactions.csv", b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n",
         "HTML/XML page"),
        ("interactions.csv", (IH + "\nI1,2024-07-16 15:04:05,email,general_inquiry,Caf\x81\n")
         .encode("latin-1"), "neither UTF-8 nor Windows-1252 (byte 0x81"),
        ("interactions.parquet", b"id,started_at\n1,2\n", "not a Parquet file"),
        ("interactions.parquet", b"", "the file is empty"),
        ("interactions.csv.gz", b"not gzip at all", "not a readable gzip"),
    ],
)
def test_file_problems(raw_dir, db_path, name, content, expected):
    (raw_dir / "2024").mkdir()
    (raw_dir / "2024" / name).write_bytes(content)
    with pytest.raises(LoadError) as e:
        load(raw_dir, db_path)
    assert name in str(e.value)
    assert expected in str(e.value)
    assert not db_path.exists() or all_tables(db_path) == {}


def test_warehouse_that_cannot_be_opened_is_a_load_error(raw_dir, db_path, write_csv):
    write_csv("2024/kb_views.csv", "date,article_id,article_title,views\n2024-07-16,A1,T,3")
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a DuckDB file" * 200)
    with pytest.raises(LoadError) as e:
        load(raw_dir, db_path)
    assert f"Cannot load into the warehouse {db_path}" in str(e.value)
    assert "Nothing from this run was loaded" in str(e.value)


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_keep_accents(raw_dir, db_path, write_csv, encoding):
    write_csv(
        "2024/service_requests.csv",
        sr_file(["S1,2024-07-16 15:04:05,,New,Bruit – nuit,Municipal Licensing,Bâtiment,"
                 "Montréal (02),,,Café “Centre”"]),
        encoding=encoding,
    )
    load(raw_dir, db_path)
    assert q(db_path, "SELECT sr_type, section, ward, bia FROM raw.service_requests") == [
        ("Bruit – nuit", "Bâtiment", "Montréal (02)", "Café “Centre”")
    ]
    assert audit(db_path)[0][3] == encoding


def test_csv_gz_and_cp1252_gz(raw_dir, db_path):
    (raw_dir / "2024").mkdir()
    text = sr_file(["S1,2024-07-16 15:04:05,,New,T,Division Générale,,,,,"]) + "\n"
    (raw_dir / "2024" / "service_requests_a.csv.gz").write_bytes(gzip.compress(text.encode()))
    (raw_dir / "2024" / "service_requests_b.csv.gz").write_bytes(
        gzip.compress(text.replace("S1", "S2").encode("cp1252"))
    )
    load(raw_dir, db_path)
    assert q(db_path, "SELECT sr_id, division FROM raw.service_requests ORDER BY 1") == [
        ("S1", "Division Générale"), ("S2", "Division Générale")
    ]
    assert [(a[0], a[2], a[3]) for a in audit(db_path)] == [
        ("2024/service_requests_a.csv.gz", "csv.gz", "utf-8"),
        ("2024/service_requests_b.csv.gz", "csv.gz", "cp1252"),
    ]


def test_blank_first_megabyte_does_not_hide_windows_1252(tmp_path):
    # the check for an all-blank file reads past the first chunk: the chunk it finds text in
    # must still be decoded, so a cp1252 byte there is not taken for UTF-8
    path = tmp_path / "blank_start.csv"
    path.write_bytes(b" " * (1 << 20) + b"a,b\nCaf\xe9,1\n")
    read_path, encoding = prepare_csv(path, path, tmp_path)
    assert encoding == "cp1252"
    assert read_path.read_text(encoding="utf-8").endswith("Café,1\n")


def test_reject_reasons_come_from_one_table():
    # every reason the contract lists, and nothing else, can be produced
    reasons = set()
    for entity, cols in ENTITIES.items():
        for col in cols:
            reasons |= {reason for _, reason in column_checks(entity, col)}
    assert reasons == {
        "required value missing", "unparseable timestamp", "unparseable date", "unknown channel",
        "unknown interaction type", "unknown outcome", "unknown status", "invalid boolean",
        "negative seconds", "non-integer seconds", "negative count", "non-integer count",
        "invalid coordinate", "closed before created",
    }
    assert problem_expr("interactions").count("required value missing") == 4 + 3  # 3 conditional


# ---------------------------------------------------------------- values


def test_timestamp_forms_and_dst(raw_dir, db_path, write_csv):
    forms = [
        "2024-07-16 15:04:05",
        "2024-07-16T15:04:05",
        "2024-07-16T15:04:05-04:00",
        "2024-07-16T19:04:05Z",
        "2024-07-16T16:04:05-03:00",
        "2024-07-16 15:04:05.0000000",
        "16/Jul/2024 03:04 PM",
        "2024-11-03 01:30:00",  # repeated hour: first (EDT) occurrence
        "2024-11-03T01:30:00-05:00",  # explicit offset: the second occurrence
        "2024-01-15 08:00:00",  # EST
    ]
    rows = [f"I{i},{ts},email,general_inquiry,,,,,,,," for i, ts in enumerate(forms)]
    write_csv("2024/interactions.csv", "\n".join([IH, *rows]))
    load(raw_dir, db_path)
    got = [r[0] for r in q(db_path, "SELECT started_at FROM raw.interactions ORDER BY _source_line")]
    assert got == [
        utc(2024, 7, 16, 19, 4, 5),
        utc(2024, 7, 16, 19, 4, 5),
        utc(2024, 7, 16, 19, 4, 5),
        utc(2024, 7, 16, 19, 4, 5),
        utc(2024, 7, 16, 19, 4, 5),
        utc(2024, 7, 16, 19, 4, 5),
        utc(2024, 7, 16, 19, 4),
        utc(2024, 11, 3, 5, 30),
        utc(2024, 11, 3, 6, 30),
        utc(2024, 1, 15, 13, 0),
    ]


def test_booleans_channels_statuses(raw_dir, db_path, write_csv):
    bools = ["true", "FALSE", "1", "0", "yes", "No", "Y", "n", ""]
    channels = ["Live Chat", "live-chat", "LIVE_CHAT", "Mobile App", "In-Person", "Web",
                "Social", "Other", "E-mail"]
    rows = [
        f"I{i},2024-07-16 15:04:05,{c},General Inquiry,,abandoned,5,,{b},,,"
        for i, (b, c) in enumerate(zip(bools, channels, strict=True))
    ]
    write_csv("2024/interactions.csv", "\n".join([IH, *rows]))
    statuses = ["New", "Initiated", "In Progress", "in-progress", "Closed", "Completed",
                "Canceled", "Cancelled", "Unknown", "UNKNOWN"]
    write_csv("2024/service_requests.csv",
              sr_file([f"S{i},2024-07-16 15:04:05,,{s},T,D,,,,," for i, s in enumerate(statuses)]))
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT transferred, channel, interaction_type FROM raw.interactions "
                      "ORDER BY _source_line") == [
        (True, "live_chat", "general_inquiry"),
        (False, "live_chat", "general_inquiry"),
        (True, "live_chat", "general_inquiry"),
        (False, "mobile_app", "general_inquiry"),
        (True, "in_person", "general_inquiry"),
        (False, "web", "general_inquiry"),
        (True, "social", "general_inquiry"),
        (False, "other", "general_inquiry"),
    ]
    assert q(db_path, "SELECT line, \"column\", reason FROM raw.rejects") == [
        (10, "channel", "unknown channel")
    ]
    assert [r[0] for r in q(db_path, "SELECT status FROM raw.service_requests "
                                     "ORDER BY _source_line")] == [
        "initiated", "initiated", "in_progress", "in_progress", "closed", "closed",
        "cancelled", "cancelled", "unknown", "unknown",
    ]


def test_extra_personal_columns_never_stored(raw_dir, db_path, write_csv):
    # The values of the columns that are not in the contract are never stored anywhere; their
    # names only in the one note that says they were not read (raw.load_notes, for the
    # report's data notes), never as a column of any table.
    write_csv(
        "2024/interactions.csv",
        """
        caller_name,interaction_id,started_at,phone_number,channel,interaction_type,email
        Zelda Fitzgerald,I1,2024-07-16 15:04:05,416-555-0199,email,general_inquiry,zelda@example.org
        """,
    )
    load(raw_dir, db_path)
    assert q(db_path, "SELECT interaction_id FROM raw.interactions") == [("I1",)]
    cols = q(db_path, "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                      "WHERE database_name = 'warehouse' ORDER BY schema_name, table_name, column_index")
    needles = ("Zelda", "416-555", "zelda@", "caller_name", "phone_number")
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in cols:
        for needle in needles:
            assert needle not in column
        by_table.setdefault((schema, table), []).append(column)
    assert ("raw", "interactions") in by_table  # the warehouse's own tables were listed
    found = []
    for (schema, table), columns in by_table.items():
        # every value of every column, as text (the tables are a few rows each)
        rows = q(db_path, "SELECT " + ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
                 + f' FROM "{schema}"."{table}"')
        found += [(table, column, needle) for i, column in enumerate(columns) for needle in needles
                  if any(row[i] is not None and needle in row[i] for row in rows)]
    assert found == [("load_notes", "note", "caller_name"), ("load_notes", "note", "phone_number")]
    # caller_name, phone_number and email (columns 1, 4 and 7) are the 3 columns not in the contract
    assert q(db_path, "SELECT source_file, note FROM raw.load_notes") == [
        ("2024/interactions.csv",
         "3 column(s) not in the contract, ignored: 'caller_name', 'phone_number', 'email'")]
    assert b"Zelda" not in db_path.read_bytes()


# ---------------------------------------------------------------- audit, dups, idempotency


def test_nothing_lost_with_exact_duplicates(raw_dir, db_path, write_csv):
    write_csv(
        "2024/service_requests_1.csv",
        sr_file([
            "S1,2024-07-16 15:04:05,,New,T,D,,,,,",
            "S1,2024-07-16T15:04:05,,new,T,D,,,,,",  # same values after normalising
            "S1,2024-07-16 15:04:05,,In Progress,T,D,,,,,",  # same id, new status: kept
            "S2,2024-07-16 15:04:05,,New,T,,,,,,",  # rejected
            "S3,2024-07-16 15:04:05,,New,T,D,,,,,",
        ]),
        mtime=1_700_000_000,
    )
    write_csv(
        "2024/service_requests_2.csv",
        sr_file([
            "S3,2024-07-16 15:04:05,,New,T,D,,,,,",  # exact copy of an earlier delivery
            "S3,2024-07-16 15:04:05,2024-07-18 10:00:00,Closed,T,D,,,,,",
        ]),
        mtime=1_700_000_100,
    )
    s = load(raw_dir, db_path, max_reject_rate=1.0)
    assert audit(db_path) == [
        ("2024/service_requests_1.csv", "service_requests", "csv", "utf-8", 1, 5, 3, 1, 1),
        ("2024/service_requests_2.csv", "service_requests", "csv", "utf-8", 2, 2, 1, 0, 1),
    ]
    for row in audit(db_path):
        assert row[5] == row[6] + row[7] + row[8]
    assert (s.rows_read, s.rows_loaded, s.rows_rejected, s.duplicates_collapsed) == (7, 4, 1, 2)
    assert q(db_path, "SELECT sr_id, status, _source_file, _source_line, _delivery_rank "
                      "FROM raw.service_requests ORDER BY _delivery_rank, _source_line") == [
        ("S1", "initiated", "2024/service_requests_1.csv", 2, 1),
        ("S1", "in_progress", "2024/service_requests_1.csv", 4, 1),
        ("S3", "initiated", "2024/service_requests_1.csv", 6, 1),
        ("S3", "closed", "2024/service_requests_2.csv", 3, 2),
    ]


def test_repeated_ids_list_every_id_delivered_twice(raw_dir, db_path, write_csv):
    # S1 repeats within file 1, S3 across files 1 and 2 (one exact copy, one new version), S2 is
    # only repeated by a rejected row, S4 and I1 occur once; I2 repeats within the interactions
    write_csv(
        "2024/service_requests_1.csv",
        sr_file([
            "S1,2024-07-16 15:04:05,,New,T,D,,,,,",
            "S1,2024-07-16 15:04:05,,In Progress,T,D,,,,,",
            "S2,2024-07-16 15:04:05,,New,T,D,,,,,",
            "S2,2024-07-16 15:04:05,,New,T,,,,,,",  # division missing: rejected
            "S3,2024-07-16 15:04:05,,New,T,D,,,,,",
            "S4,2024-07-16 15:04:05,,New,T,D,,,,,",
        ]),
        mtime=1_700_000_000,
    )
    write_csv(
        "2024/service_requests_2.csv",
        sr_file([
            "S3,2024-07-16 15:04:05,,New,T,D,,,,,",
            "S3,2024-07-16 15:04:05,2024-07-18 10:00:00,Closed,T,D,,,,,",
        ]),
        mtime=1_700_000_100,
    )
    write_csv("2024/interactions.csv",
              f"{IH}\nI1,2024-07-16 15:04:05,web,service_request,,,,,,,,\n"
              "I2,2024-07-16 15:04:05,web,service_request,,,,,,,,\n"
              "I2,2024-07-16 15:05:05,web,service_request,,,,,,,,",
              mtime=1_700_000_200)
    load(raw_dir, db_path, max_reject_rate=1.0)
    listed = q(db_path, "SELECT entity, id FROM raw.repeated_ids ORDER BY 1, 2")
    assert listed == [("interactions", "I2"), ("service_requests", "S1"), ("service_requests", "S3")]
    # nothing is listed twice when the files are loaded again, after a change to the second one
    write_csv("2024/service_requests_2.csv", sr_file(["S3,2024-07-16 15:04:05,,Closed,T,D,,,,,"]),
              mtime=1_700_000_100)
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT entity, id FROM raw.repeated_ids ORDER BY 1, 2") == listed
    # a warehouse loaded before the table existed gets it filled from the rows already there
    con = duckdb.connect(str(db_path))
    con.execute("DROP TABLE raw.repeated_ids")
    con.close()
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT entity, id FROM raw.repeated_ids ORDER BY 1, 2") == listed


def test_delivery_rank_follows_mtime_then_name(raw_dir, db_path, write_csv):
    # 'a' is named first but delivered later: it must win (higher rank)
    write_csv("2024/service_requests_a.csv",
              sr_file(["S1,2024-07-16 15:04:05,2024-07-20 00:00:00,Closed,T,D,,,,,"]),
              mtime=1_700_000_500)
    write_csv("2024/service_requests_b.csv", sr_file(["S1,2024-07-16 15:04:05,,New,T,D,,,,,"]),
              mtime=1_700_000_000)
    write_csv("2024/kb_views_x.csv", "date,article_id,article_title,views\n2024-07-16,A1,T,3",
              mtime=1_700_000_500)  # same mtime as 'a': name decides (kb_views < service...)
    load(raw_dir, db_path)
    assert q(db_path, "SELECT status, _delivery_rank FROM raw.service_requests ORDER BY 2") == [
        ("initiated", 1), ("closed", 3)
    ]
    assert q(db_path, "SELECT date, article_id, views, _delivery_rank FROM raw.kb_views") == [
        (dt.date(2024, 7, 16), "A1", 3, 2)
    ]


def test_idempotent_changed_and_removed_files(raw_dir, db_path, write_csv):
    a = write_csv("2024/service_requests_a.csv",
                  sr_file(["S1,2024-07-16 15:04:05,,New,T,D,,,,,"]), mtime=1_700_000_000)
    write_csv("2024/service_requests_b.csv",
              sr_file(["S2,2024-07-16 15:04:05,,New,T,D,,,,,"]), mtime=1_700_000_100)
    write_csv("2024/interactions.csv", f"{IH}\nI1,2024-07-16 15:04:05,web,service_request,,,,,,,,",
              mtime=1_700_000_200)
    s1 = load(raw_dir, db_path)
    first = all_tables(db_path)
    assert len(s1.files_loaded) == 3
    s2 = load(raw_dir, db_path)
    assert s2.files_loaded == [] and len(s2.files_skipped) == 3
    assert all_tables(db_path) == first

    # a changed file is a new delivery: its rows replace the old ones and it is placed after
    # every file loaded before (ranks 1-3 are taken: rank 4), whatever its modification time;
    # b, after a among the SR files, is loaded again (duplicates are collapsed against the
    # deliveries before it) in its own place, 2. Loaded in delivery order: b, then a.
    write_csv("2024/service_requests_a.csv",
              sr_file(["S1,2024-07-16 15:04:05,2024-07-17 00:00:00,Closed,T,D,,,,,"]),
              mtime=1_700_000_000)
    s3 = load(raw_dir, db_path)
    assert s3.files_loaded == ["2024/service_requests_b.csv", "2024/service_requests_a.csv"]
    assert s3.files_skipped == ["2024/interactions.csv"]
    assert q(db_path, "SELECT sr_id, status, _delivery_rank FROM raw.service_requests "
                      "ORDER BY 1") == [("S1", "closed", 4), ("S2", "initiated", 2)]

    # a removed file's rows disappear; the other files keep their places
    os.remove(a)
    load(raw_dir, db_path)
    assert q(db_path, "SELECT sr_id, _delivery_rank FROM raw.service_requests") == [("S2", 2)]
    assert q(db_path, "SELECT source_file, delivery_rank FROM raw.load_audit ORDER BY 2") == [
        ("2024/service_requests_b.csv", 2), ("2024/interactions.csv", 3)
    ]
    assert q(db_path, "SELECT _delivery_rank FROM raw.interactions") == [(3,)]


def test_ignores_other_files(raw_dir, db_path, write_csv):
    write_csv("DEMO_DATA.md", "# demo")
    write_csv("README.md", "hello")
    write_csv("2024/notes.txt", "x")
    write_csv("2024/calls.csv", "a,b\n1,2")
    write_csv("misc/interactions.csv", "garbage")
    write_csv("202/interactions.csv", "garbage")
    write_csv("2024/kb_views.csv", "date,article_id,article_title,views\n2024-07-16,A1,T,3")
    s = load(raw_dir, db_path)
    assert s.files_loaded == ["2024/kb_views.csv"]


# ---------------------------------------------------------------- Open Data


OD_A = (
    "Creation Date,Status,First 3 Chars of Postal Code,Intersection Street 1,"
    "Intersection Street 2,Ward,Service Request Type,Division,Section\n"
    "2024-01-02 08:15:30.0000000,Completed,M6H,Dundas St W,Lansdowne Ave,"
    "Davenport (09),Road - Pot hole,Transportation Services,Road Operations\n"
    "2024-01-03 09:00:00.0000000,Initiated,M4C,,,Beaches-East York (19),Noise,"
    "Municipal Licensing & Standards,\n"
)
OD_B = (
    "Service Request Creation Date and Time,Service Request Location,Original Service Request "
    "Type,Service Request Status,Service Request Division,Service Request Section-Unit,"
    "Service Request Ward\n"
    "16/Jul/2024 03:04 PM,M6H,Graffiti,In-progress,Transportation Services,Bâtiment,09\n"
    "17/Jul/2024 11:30 AM,Queen St W / Spadina Ave,Graffiti,Cancelled,Transportation Services,,\n"
)


def test_open_data_both_variants_zip_and_stable_ids(raw_dir, db_path):
    od = raw_dir / "open_data"
    od.mkdir()
    (od / "SR2024.csv").write_text(OD_A, encoding="utf-8")
    with zipfile.ZipFile(od / "SR2024b.zip", "w") as z:
        z.writestr("SR2024b.csv", OD_B.encode("cp1252"))
    load(raw_dir, db_path)
    rows = q(db_path, "SELECT sr_id, created_at, closed_at, status, sr_type, division, section, "
                      "ward, fsa, intersection_1, intersection_2, closed_at_available, "
                      "_source_file, _source_line FROM raw.service_requests ORDER BY 13, 14")
    import hashlib

    sha_a = hashlib.sha256((od / "SR2024.csv").read_bytes()).hexdigest()[:8]
    sha_b = hashlib.sha256((od / "SR2024b.zip").read_bytes()).hexdigest()[:8]
    assert rows == [
        (f"OD-{sha_a}-2", utc(2024, 1, 2, 13, 15, 30), None, "closed", "Road - Pot hole",
         "Transportation Services", "Road Operations", "Davenport (09)", "M6H", "Dundas St W",
         "Lansdowne Ave", False, "open_data/SR2024.csv", 2),
        (f"OD-{sha_a}-3", utc(2024, 1, 3, 14), None, "initiated", "Noise",
         "Municipal Licensing & Standards", None, "Beaches-East York (19)", "M4C", None, None,
         False, "open_data/SR2024.csv", 3),
        (f"OD-{sha_b}-2", utc(2024, 7, 16, 19, 4), None, "in_progress", "Graffiti",
         "Transportation Services", "Bâtiment", "09", "M6H", None, None, False,
         "open_data/SR2024b.zip", 2),
        (f"OD-{sha_b}-3", utc(2024, 7, 17, 15, 30), None, "cancelled", "Graffiti",
         "Transportation Services", None, None, None, "Queen St W / Spadina Ave", None, False,
         "open_data/SR2024b.zip", 3),
    ]
    assert [(a[0], a[2], a[3]) for a in audit(db_path)] == [
        ("open_data/SR2024.csv", "open_data", "utf-8"),
        ("open_data/SR2024b.zip", "open_data", "cp1252"),
    ]
    # a fresh warehouse from the same files gives the same synthetic ids
    other = db_path.with_name("other.duckdb")
    load(raw_dir, other)
    assert q(other, "SELECT sr_id FROM raw.service_requests ORDER BY 1") == sorted(
        (r[0],) for r in rows
    )


def test_open_data_unknown_header_is_a_file_problem(raw_dir, db_path, write_csv):
    write_csv("open_data/x.csv", "Date,Type\n2024-01-01,Noise")
    with pytest.raises(LoadError, match=r"open_data/x.csv.*Open Data header variant"):
        load(raw_dir, db_path)


# ---------------------------------------------------------------- Parquet, BIA


def test_parquet_typed_and_string_timestamps(raw_dir, db_path):
    (raw_dir / "2024").mkdir()
    pq.write_table(
        pa.table({
            "interaction_id": ["P1", "P2", "P3"],
            "started_at": pa.array([dt.datetime(2024, 7, 16, 15, 4, 5),
                                    dt.datetime(2024, 11, 3, 1, 30),
                                    dt.datetime(2024, 1, 1, 0, 0)], pa.timestamp("us")),
            "channel": ["phone", "Live Chat", "email"],
            "interaction_type": ["general_inquiry"] * 3,
            "outcome": ["answered", "abandoned", None],
            "queue_seconds": pa.array([5, None, -1], pa.int32()),
            "handle_seconds": pa.array([60, None, None], pa.int64()),
            "transferred": pa.array([True, False, None]),
            "responded_at": pa.array([None, None, dt.datetime(2024, 1, 1, 5, 0, tzinfo=UTC)],
                                     pa.timestamp("us", tz="UTC")),
            "phone_number": ["416-555-0100"] * 3,
        }),
        raw_dir / "2024" / "interactions.parquet",
    )
    pq.write_table(
        pa.table({
            "sr_id": ["S1", "S2"],
            "created_at": ["2024-07-16 15:04:05", "2024-07-16T15:04:05-04:00"],
            "closed_at": [None, "2024-07-15 00:00:00"],
            "status": ["Closed", "Closed"],
            "sr_type": ["T", "T"],
            "division": ["D", "D"],
            "latitude": [43.65, None],
        }),
        raw_dir / "2024" / "service_requests.parquet",
    )
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT interaction_id, started_at, channel, queue_seconds, transferred, "
                      "_source_line FROM raw.interactions ORDER BY 1") == [
        ("P1", utc(2024, 7, 16, 19, 4, 5), "phone", 5, True, 2),
        ("P2", utc(2024, 11, 3, 5, 30), "live_chat", None, False, 3),
    ]
    assert q(db_path, "SELECT * FROM raw.rejects ORDER BY 1") == [
        ("2024/interactions.parquet", "interactions", 4, "queue_seconds", "negative seconds"),
        ("2024/service_requests.parquet", "service_requests", 3, "closed_at",
         "closed before created"),
    ]
    assert q(db_path, "SELECT sr_id, created_at, latitude FROM raw.service_requests") == [
        ("S1", utc(2024, 7, 16, 19, 4, 5), 43.65)
    ]
    assert [(a[0], a[2], a[3], a[5:]) for a in audit(db_path)] == [
        ("2024/interactions.parquet", "parquet", None, (3, 2, 1, 0)),
        ("2024/service_requests.parquet", "parquet", None, (2, 1, 1, 0)),
    ]


def test_bia_filled_from_boundaries(raw_dir, db_path, write_csv):
    square = [[[-79.5, 43.6], [-79.4, 43.6], [-79.4, 43.7], [-79.5, 43.7], [-79.5, 43.6]]]
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"bia_name": "Bloor West Village"},
         "geometry": {"type": "Polygon", "coordinates": square}},
    ]}
    (raw_dir / "reference").mkdir()
    (raw_dir / "reference" / "bia_boundaries.geojson").write_text(json.dumps(geo))
    write_csv("2024/service_requests.csv", sr_file([
        "S1,2024-07-16 15:04:05,,New,T,D,,,43.65,-79.45,",
        "S2,2024-07-16 15:04:05,,New,T,D,,,43.65,-79.45,Own Tag",
        "S3,2024-07-16 15:04:05,,New,T,D,,,43.80,-79.45,",
        "S4,2024-07-16 15:04:05,,New,T,D,,,,,",
    ]))
    load(raw_dir, db_path)
    assert q(db_path, "SELECT sr_id, bia FROM raw.service_requests ORDER BY 1") == [
        ("S1", "Bloor West Village"), ("S2", "Own Tag"), ("S3", None), ("S4", None)
    ]


def test_a_changed_bia_boundaries_file_reads_the_sr_files_again_and_says_so(raw_dir, db_path, write_csv):
    square = [[[-79.5, 43.6], [-79.4, 43.6], [-79.4, 43.7], [-79.5, 43.7], [-79.5, 43.6]]]

    def boundaries(name: str) -> None:
        (raw_dir / "reference").mkdir(exist_ok=True)
        (raw_dir / "reference" / "bia_boundaries.geojson").write_text(json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"bia_name": name},
                                                        "geometry": {"type": "Polygon", "coordinates": square}}]}))

    boundaries("Bloor West Village")
    write_csv("2024/service_requests.csv", sr_file(["S1,2024-07-16 15:04:05,,New,T,D,,,43.65,-79.45,"]))
    write_csv("2024/interactions.csv", f"{IH}\nI1,2024-07-16 15:04:05,web,service_request,,,,,,,,")
    load(raw_dir, db_path)
    bia = "SELECT bia FROM raw.service_requests"
    assert q(db_path, bia) == [("Bloor West Village",)]
    # the polygon renamed: the SR file (unchanged) is read again, the interactions are not
    boundaries("Baby Point Gates")
    summary = load(raw_dir, db_path)
    assert (summary.files_loaded, summary.files_skipped) == (["2024/service_requests.csv"], ["2024/interactions.csv"])
    assert [str(n) for n in summary.notes] == [
        "reference/bia_boundaries.geojson: changed: every service-request file is read again (a blank BIA is "
        "filled from the BIA boundaries)"]
    assert q(db_path, bia) == [("Baby Point Gates",)]
    assert load(raw_dir, db_path).files_loaded == []  # unchanged since: nothing read again
    # removed: the BIA filled from it goes too
    (raw_dir / "reference" / "bia_boundaries.geojson").unlink()
    summary = load(raw_dir, db_path)
    assert summary.files_loaded == ["2024/service_requests.csv"]
    assert [n.note.split(":")[0] for n in summary.notes] == ["was removed"]
    assert q(db_path, bia) == [(None,)]
    boundaries("Bloor West Village")  # and back: added
    assert [n.note.split(":")[0] for n in load(raw_dir, db_path).notes] == ["was added"]
    assert q(db_path, bia) == [("Bloor West Village",)]


def test_kb_views_rejects(raw_dir, db_path, write_csv):
    write_csv("2024/kb_views.csv", """
        date,article_id,article_title,views
        2024-07-16,A1,Garbage Day,12
        2024-07-16,A2,Parking,-1
        2024-07-32,A3,Parking,1
        2024-07-16,A4,,1
        """)
    load(raw_dir, db_path, max_reject_rate=1.0)
    assert q(db_path, "SELECT line, \"column\", reason FROM raw.rejects ORDER BY 1") == [
        (3, "views", "negative count"),
        (4, "date", "unparseable date"),
        (5, "article_title", "required value missing"),
    ]
    assert q(db_path, "SELECT date, article_id, article_title, views FROM raw.kb_views") == [
        (dt.date(2024, 7, 16), "A1", "Garbage Day", 12)
    ]
