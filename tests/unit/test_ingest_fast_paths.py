"""The loader's shortcuts give what the long way gives, row for row: a text trimmed only when it
needs it, a local time's offset looked up, a code normalised only when it is not in its normal
form, a file's keys shown different by their order; and the insert keeps its parallel plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline.ingest.landing as landing
import pipeline.ingest.loader as loader
from pipeline.contract import DDL, ENTITIES, STATUS_MAP, SourceFile
from pipeline.ingest import load
from pipeline.ingest.checks import ALLOWED, macros, typed_expr
from pipeline.ingest.landing import _Insert, _key_order
from pipeline.ingest.local_time import QUICK, quick_macro
from pipeline.ingest.sql import blank_as_null
from tests.unit.test_ingest_support import q


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


def test_blank_as_null_is_trim_then_blank_as_null_for_every_character(con):
    # every code point (surrogates aside) alone, before and after a letter, inside a word, and
    # between two spaces; and the cases by hand. DuckDB's trim removes the space separators
    # (Unicode Zs: U+0020, U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000), not a tab
    con.execute("CREATE TABLE c AS SELECT chr(CAST(i AS INTEGER)) AS x FROM range(0, 1114112) t(i) "
                "WHERE i < 55296 OR i > 57343")
    con.execute("CREATE TABLE s AS SELECT x FROM c UNION ALL SELECT x || 'a' FROM c UNION ALL "
                "SELECT 'a' || x FROM c UNION ALL SELECT 'ab' || x || 'c' FROM c UNION ALL SELECT ' ' || x || ' ' FROM c")
    con.execute("INSERT INTO s VALUES (NULL), (''), (' '), ('  a  '), ('\u00e9'), ('e\u0301'), "
                "('\u00a0x\u00a0'), ('\tx\t'), ('x\u3000'), ('\u2003x')")
    assert con.execute("SELECT count(*) FROM s").fetchone() == (5 * (1114112 - 2048) + 10,)
    differ = con.execute(f"SELECT count(*) FROM s WHERE ({blank_as_null('x')}) IS DISTINCT FROM "
                         "nullif(trim(x), '')").fetchone()
    assert differ == (0,)
    by_hand = con.execute(f"SELECT {blank_as_null('x')} FROM (VALUES (' a '), ('\u00a0b\u00a0'), "
                          "('\tc\t'), (' '), (''), ('d')) v(x)").fetchall()
    assert by_hand == [("a",), ("b",), ("\tc\t",), (None,), (None,), ("d",)]


@pytest.mark.parametrize("tz", ["America/Toronto", "Australia/Lord_Howe", "America/Sao_Paulo",
                                "America/St_Johns", "Pacific/Apia", "Asia/Kolkata"])
def test_quick_local_time_is_local_ts_every_twenty_minutes(con, tz):
    # Lord Howe moves by half an hour, Sao Paulo's spring gap was at midnight, St John's
    # changed at 00:01 until 2011, Apia skipped 30 December 2011; 2035 is past the years looked
    # up (`_local_ts` then answers itself); 13 seconds off the minute
    for macro in macros(tz):
        con.execute(macro)
    con.execute(quick_macro(con, tz, 2031))
    got = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {QUICK}(t) IS DISTINCT FROM _local_ts(t)), "
        f"count(*) FILTER (WHERE {QUICK}(t) IS NULL) FROM (SELECT unnest(generate_series("
        "TIMESTAMP '1999-12-20 00:00:13', TIMESTAMP '2035-01-10 00:00:13', INTERVAL 20 MINUTE)) AS t "
        "UNION ALL SELECT NULL)").fetchone()
    rows = (dt.date(2035, 1, 10) - dt.date(1999, 12, 20)).days * 72 + 1 + 1
    assert got[0] == rows
    assert got[1] == 0
    # _local_ts gives NULL in a spring-forward gap at 01:00-03:00 (and for the NULL row): so
    # does the lookup, a few rows a year where the zone has one; none in Kolkata (no DST) nor in
    # Sao Paulo (its gap was at midnight, where _local_ts takes ICU's answer)
    assert (got[2] == 1) == (tz in ("Asia/Kolkata", "America/Sao_Paulo"))


def test_quick_local_time_by_hand(con):
    # Toronto: EDT is UTC-4 in July, EST UTC-5 in January; 2024-11-03 01:30 is the repeated hour
    # (the first, EDT, occurrence); 2024-03-10 02:30 does not exist
    for macro in macros("America/Toronto"):
        con.execute(macro)
    con.execute(quick_macro(con, "America/Toronto", 2025))
    got = [r[0] for r in con.execute(
        f"SELECT {QUICK}(t) FROM (VALUES (TIMESTAMP '2024-07-16 15:04:05'), (TIMESTAMP '2024-01-15 08:00'), "
        "(TIMESTAMP '2024-11-03 01:30'), (TIMESTAMP '2024-03-10 02:30'), (NULL)) v(t)").fetchall()]
    utc = dt.UTC
    assert got == [dt.datetime(2024, 7, 16, 19, 4, 5, tzinfo=utc), dt.datetime(2024, 1, 15, 13, 0, tzinfo=utc),
                   dt.datetime(2024, 11, 3, 5, 30, tzinfo=utc), None, None]


def test_codes_in_normal_form_or_not_type_as_normalised(con):
    for macro in macros("America/Toronto"):
        con.execute(macro)
    values = ["phone", "Phone", " live chat", "Live-Chat", "live_chat", "LIVE_CHAT", "fax", "", None,
              "general_inquiry", "Status Update", "answered", "ABANDONED", "New", "new", "inprogress",
              "In Progress", "Completed", "cancelled", "canceled", "closed", "Closed "]
    con.execute("CREATE TABLE v (x VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[v] for v in values])
    cols = {c.kind: c for cols in ENTITIES.values() for c in cols}
    for kind in ("channel", "itype", "outcome", "status"):
        got = con.execute(f"SELECT {typed_expr(cols[kind], 'varchar')} FROM (SELECT x AS \"{cols[kind].name}\" FROM v)").fetchall()
        norm = [None if v is None else v.strip().lower().replace(" ", "_").replace("-", "_") for v in values]
        want = [(STATUS_MAP.get(n) if kind == "status" else (n if n in ALLOWED[kind] else None),) for n in norm]
        assert got == want, kind


def _landing(con: duckdb.DuckDBPyConnection, ids: list[tuple[str, int]]) -> _Insert:
    """raw.service_requests holding one file's rows (sr_id, line), stored in the order given."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(DDL["service_requests"])
    con.execute("DELETE FROM raw.service_requests")
    con.executemany("INSERT INTO raw.service_requests (sr_id, created_at, status, sr_type, division, "
                    "closed_at_available, _source_file, _source_line, _delivery_rank) "
                    "VALUES (?, TIMESTAMPTZ '2024-07-16 15:04:05+00', 'closed', 'T', 'D', true, 'f.csv', ?, 1)",
                    [list(r) for r in ids])
    sf = SourceFile(path=Path("f.csv"), rel="f.csv", entity="service_requests", file_format="csv",
                    sha256="0" * 64, size=1, mtime_ns=0)
    return _Insert(sf)


@pytest.mark.parametrize(("stored", "distinct", "highest"), [
    ([("S1", 2), ("S2", 3), ("S3", 4), ("S4", 5)], True, "S4"),  # in order
    # lines 4-5 stored before lines 2-3 (as a big insert may store row groups): two runs of
    # increasing keys, S3-S4 and S1-S2, whose ranges do not overlap
    ([("S3", 4), ("S4", 5), ("S1", 2), ("S2", 3)], True, "S4"),
    # line 3 stored after line 4: cut at each line that does not follow, four runs of one key
    ([("S1", 2), ("S3", 4), ("S2", 3), ("S4", 5)], True, "S4"),
    # no repeat, but the file is out of order: runs S1-S3 and S2-S4 overlap, nothing is shown
    ([("S1", 2), ("S3", 3), ("S2", 4), ("S4", 5)], False, "S4"),
    ([("S1", 2), ("S2", 3), ("S2", 4), ("S3", 5)], False, "S3"),  # a repeat next to itself
    ([("S1", 2), ("S2", 3), ("S3", 4), ("S1", 5)], False, "S3"),  # a repeat far from itself
    # the last row alone in its run (line 5 does not follow line 3; S3 after S4): runs S1-S2,
    # S4 and S3, apart
    ([("S1", 2), ("S2", 3), ("S4", 5), ("S3", 4)], True, "S4"),
    # the last run, S1-S6 (lines 2-3), ends at the last row and overlaps the run S4-S5 before it
    ([("S4", 4), ("S5", 5), ("S1", 2), ("S6", 3)], False, "S6"),
])
def test_key_order_shows_keys_different_only_when_they_are(con, stored, distinct, highest):
    ins = _landing(con, stored)
    assert _key_order(con, ins) == (distinct, "S1", highest)


def test_key_order_takes_a_file_of_too_many_runs_as_unordered(con, monkeypatch):
    # four runs of one key each (every line stored out of order), at most three allowed
    monkeypatch.setattr(landing, "MAX_RUNS", 3)
    assert _key_order(con, _landing(con, [("S4", 5), ("S3", 4), ("S2", 3), ("S1", 2)])) == (False, "S1", "S4")
    monkeypatch.setattr(landing, "MAX_RUNS", 4)
    assert _key_order(con, _landing(con, [("S4", 5), ("S3", 4), ("S2", 3), ("S1", 2)])) == (True, "S1", "S4")


@pytest.mark.parametrize(("stored", "distinct"), [
    # (date, article) keys in order: the date repeats, the key does not
    ([("2024-01-01", "A", 2), ("2024-01-01", "B", 3), ("2024-01-02", "A", 4)], True),
    ([("2024-01-01", "A", 2), ("2024-01-01", "A", 3), ("2024-01-02", "A", 4)], False),
    # two runs: (01-02, A) on line 4 stored first, then lines 2-3; apart
    ([("2024-01-02", "A", 4), ("2024-01-01", "A", 2), ("2024-01-01", "B", 3)], True),
])
def test_key_order_of_a_two_column_key(con, stored, distinct):
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(DDL["kb_views"])
    con.executemany("INSERT INTO raw.kb_views VALUES (CAST(? AS DATE), ?, 'T', 1, 'k.csv', ?, 1)", [list(r) for r in stored])
    sf = SourceFile(path=Path("k.csv"), rel="k.csv", entity="kb_views", file_format="csv",
                    sha256="0" * 64, size=1, mtime_ns=0)
    assert _key_order(con, _Insert(sf)) == (distinct, dt.date(2024, 1, 1), dt.date(2024, 1, 2))


def test_repeated_ids_found_when_the_keys_are_out_of_order(raw_dir, db_path, write_csv):
    # S2 repeats on lines 2 and 5, the other ids are out of order: the hash of every key finds it
    write_csv("2024/service_requests.csv", "\n".join([
        "sr_id,created_at,closed_at,status,sr_type,division,section,ward,fsa,intersection_1,intersection_2",
        *(f"{sr},2024-07-16 15:04:05,,{st},T,D,,,,," for sr, st in
          (("S2", "New"), ("S3", "New"), ("S1", "New"), ("S2", "Closed"))),
    ]))
    load(raw_dir, db_path)
    assert q(db_path, "SELECT entity, id FROM raw.repeated_ids") == [("service_requests", "S2")]


def test_the_insert_of_a_parquet_file_is_a_parallel_batch_insert(raw_dir, db_path, monkeypatch):
    # eight channels: DuckDB would make the IN list a join, and the insert one thread
    (raw_dir / "2024").mkdir()
    pq.write_table(pa.table({
        "interaction_id": [f"I{i}" for i in range(8)],
        "started_at": pa.array([dt.datetime(2024, 7, 16, 15, 4, 5)] * 8, pa.timestamp("us")),
        "channel": ["phone", "email", "Live Chat", "web", "mobile_app", "social", "in_person", "other"],
        "interaction_type": ["general_inquiry"] * 8,
        "outcome": ["answered"] * 8,
        "queue_seconds": pa.array([5] * 8, pa.int32()),
        "handle_seconds": pa.array([60] * 8, pa.int32()),
    }), raw_dir / "2024" / "interactions.parquet")
    plans = []
    insert_rows = loader.insert_rows

    def explained(con, sf, good):
        plans.append(con.execute(f"EXPLAIN SELECT * FROM ({good})").fetchall()[0][1])
        return insert_rows(con, sf, good)

    monkeypatch.setattr(loader, "insert_rows", explained)
    load(raw_dir, db_path)
    assert len(plans) == 1
    assert "MARK" not in plans[0]
    assert q(db_path, "SELECT count(*), count(DISTINCT channel) FROM raw.interactions") == [(8, 8)]


# Each kind's typed values for the problem test: (valid values, values that fail a check); a
# state picks one, NULL from the file (not given) and NULL from a value that did not parse
# being the two states before them. FIELD_MAX_BYTES is 8 in that test.
_STATES = {
    "text": (["'ok'"], ["'a' || chr(0)", "'too long!'"]),
    "ts": (["TIMESTAMPTZ '2024-07-16 12:00:00+00'", "TIMESTAMPTZ '2024-07-17 12:00:00+00'"],
           ["TIMESTAMPTZ '1999-06-01 00:00:00+00'", "TIMESTAMPTZ '2031-01-01 00:00:00+00'"]),
    "date": (["DATE '2024-07-16'"], ["DATE '1999-06-01'", "DATE '2031-01-01'"]),
    "seconds": (["CAST(5 AS BIGINT)"], ["CAST(-1 AS BIGINT)", "CAST(90000 AS BIGINT)", "CAST(3000000000 AS BIGINT)"]),
    "count": (["CAST(5 AS BIGINT)"], ["CAST(-1 AS BIGINT)", "CAST(3000000000 AS BIGINT)"]),
    "bool": (["true"], []),
    "coord": (["43.6"], []),
    "channel": (["'phone'", "'live_chat'", "'email'"], []),
    "itype": (["'general_inquiry'"], []),
    "outcome": (["'answered'", "'abandoned'"], []),
    "status": (["'closed'"], []),
}


def _reference_problem(entity: str) -> str:
    """The first problem of a row, each check of the contract's lists one WHEN, in order."""
    from pipeline.ingest import checks

    whens = []
    for col in ENTITIES[entity]:
        for condition, reason in checks.column_checks(entity, col):
            if condition == checks.INVALID and col.kind in ("ts", "date"):
                low, high = checks.plausible_range(col.kind)
                whens += [(col, condition, reason), (col, f"{{c}} NOT BETWEEN {low} AND {high}", checks.IMPLAUSIBLE_DATE)]
            else:
                whens.append((col, condition, reason))
    whens += [(col, c, r) for col in ENTITIES[entity] for c, r in checks.bound_checks(col)]
    return "CASE " + " ".join(
        f"WHEN {c.format(c=q_(col.name), p=q_(col.name + '__p'))} THEN '{col.name}|{r}'" for col, c, r in whens) + " END"


def q_(name: str) -> str:
    return '"' + name + '"'


@pytest.mark.parametrize("entity", ["interactions", "service_requests", "kb_views"])
def test_problem_expr_finds_the_first_problem_the_checks_list(con, entity, monkeypatch):
    # 20,000 typed rows, each column valid 85% of the time, else not given, not parsed or one
    # of its kind's failing values: the grouped conditions give the reason the plain list of
    # checks gives first, on every row; and every reason of the entity is met
    from pipeline import contract
    from pipeline.ingest.checks import problem_expr, set_bounds

    monkeypatch.setattr(contract, "FIELD_MAX_BYTES", 8)
    for macro in macros("America/Toronto"):
        con.execute(macro)
    set_bounds(con, (dt.datetime(2000, 1, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    con.execute("SELECT setseed(0.311)")
    states, values = [], []
    for col in ENTITIES[entity]:
        good, bad = _STATES[col.kind]
        n = 2 + len(bad)
        states.append(f"CASE WHEN random() < 0.85 THEN 0 ELSE 1 + CAST(floor(random() * {n}) AS INTEGER) END "
                      f"AS {q_(col.name + '__s')}")
        pick = f"[{', '.join(good)}][1 + CAST(floor(random() * {len(good)}) AS INTEGER)]"
        s = q_(col.name + "__s")
        values.append(f"CASE WHEN {s} = 0 THEN {pick} "
                      + " ".join(f"WHEN {s} = {3 + i} THEN {v}" for i, v in enumerate(bad))
                      + f" END AS {q_(col.name)}, {s} <> 1 AS {q_(col.name + '__p')}")
    con.execute(f"CREATE TABLE typed AS SELECT {', '.join(values)} FROM (SELECT {', '.join(states)} FROM range(20000))")
    differ, reasons = con.execute(
        f"SELECT count(*) FILTER (WHERE a IS DISTINCT FROM b), list(DISTINCT b) FROM "
        f"(SELECT {problem_expr(entity)} AS a, {_reference_problem(entity)} AS b FROM typed)").fetchone()
    assert differ == 0
    every = {f"{col.name}|{r}" for col, _, r in _reasons(entity)}
    assert every <= set(reasons)


def _reasons(entity: str) -> list[tuple]:
    from pipeline.ingest import checks

    out = []
    for col in ENTITIES[entity]:
        for condition, reason in checks.column_checks(entity, col):
            out.append((col, condition, reason))
            if condition == checks.INVALID and col.kind in ("ts", "date"):
                out.append((col, "", checks.IMPLAUSIBLE_DATE))
        out += [(col, c, r) for c, r in checks.bound_checks(col)]
    return out
