"""Building blocks of the ingest tests (test_ingest, test_ingest_catalogue, test_ingest_defects):
a contract row as CSV text, a file as CSV text, a Parquet file as bytes, a query on a warehouse."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.contract import ENTITIES

HEADERS = {entity: ",".join(c.name for c in cols) for entity, cols in ENTITIES.items()}
DEFAULTS = {
    "interactions": {"started_at": "2024-07-16 15:04:05", "channel": "email",
                     "interaction_type": "general_inquiry"},
    "service_requests": {"created_at": "2024-07-16 15:04:05", "status": "New", "sr_type": "T",
                         "division": "D"},
    "kb_views": {"date": "2024-07-16", "article_title": "T", "views": "1"},
}
ID = {"interactions": "interaction_id", "service_requests": "sr_id", "kb_views": "article_id"}


def row(entity: str, key: str, **values: str) -> str:
    """One CSV line of ``entity`` with id ``key``: the contract's columns in order, the required
    ones filled with valid values unless given (values are written as given, quotes and all)."""
    given = DEFAULTS[entity] | {ID[entity]: key} | values
    return ",".join(given.get(c.name, "") for c in ENTITIES[entity])


def text(entity: str, rows: list[str], end: str = "\n", header: str | None = None,
         final: bool = True) -> str:
    """A CSV file's text: the header and the rows, each line ended by ``end`` (the last one
    too when ``final``)."""
    lines = [HEADERS[entity] if header is None else header, *rows]
    return end.join(lines) + (end if final else "")


def parquet(columns: dict[str, pa.Array | list]) -> bytes:
    """A Parquet file's bytes."""
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def test_a_row_fills_the_required_columns_in_contract_order():
    assert row("kb_views", "A1") == "2024-07-16,A1,T,1"
    assert row("interactions", "I1", topic='"a,b"').split(",")[:6] == [
        "I1", "2024-07-16 15:04:05", "email", "general_inquiry", '"a', 'b"']
    assert text("kb_views", [row("kb_views", "A1")], end="\r\n") == (
        "date,article_id,article_title,views\r\n2024-07-16,A1,T,1\r\n")


@functools.cache
def reader() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB, in UTC, for every query of these tests: a new DuckDB instance
    per query cost ~30 ms, attaching a warehouse file to this one ~2 ms."""
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false")
    con.execute("SET TimeZone='UTC'")
    return con


def q(db: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` run on the warehouse ``db``, opened read-only for this query."""
    con = reader()
    con.execute("ATTACH '" + str(db).replace("'", "''") + "' AS warehouse (READ_ONLY)")
    try:
        con.execute("USE warehouse")
        return con.execute(sql).fetchall()
    finally:
        con.execute("USE memory")
        con.execute("DETACH warehouse")
