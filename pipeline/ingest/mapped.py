"""Mapped extracts: another system's export read through its mapping (``raw/mapped/*.yaml``,
``pipeline/mapping.py``) into contract columns, before the same checks as every extract.

Per contract column: the mapped source column (text trimmed, blank as NULL), or the mapping's
constant. A timestamp column with the mapping's own ``formats`` or ``timezone`` becomes an
instant here (the first format that parses; local times in the mapping's time zone, the first
occurrence in the repeated autumn hour); a value that parses with none is the row problem
``unparseable timestamp``. A vocabulary column with ``values`` takes the mapped contract word
(case-insensitive); a value with no mapping is the row problem ``unmapped value``, and the
file's notes list those values with their counts.
"""

from __future__ import annotations

import duckdb

from ..contract import ENTITIES, SourceFile
from ..mapping import Mapping
from .sql import ql

OFFSET = r"'.*(Z|z|[+-]\d{2}(:?\d{2})?)$'"  # a timestamp that carries its own offset
MAX_LISTED = 10  # unmapped values listed per column


def _timestamp(v: str, m: Mapping) -> str:
    """An instant from the mapping's formats and time zone (NULL when none parses)."""
    naive = ", ".join([f"try_strptime({v}, {ql(f)})" for f in m.formats] + [f"try_cast({v} AS TIMESTAMP)"])
    local = f"coalesce({naive})"
    instant = (f"_local_ts_in({local}, {ql(m.timezone)})" if m.timezone else f"_local_ts({local})")
    return f"CASE WHEN regexp_full_match({v}, {OFFSET}) THEN try_cast({v} AS TIMESTAMPTZ) ELSE {instant} END"


def _vocabulary(v: str, words: dict[str, str]) -> str:
    whens = " ".join(f"WHEN {ql(source)} THEN {ql(word)}" for source, word in sorted(words.items()))
    return f"CASE lower({v}) {whens} END"


def columns(sf: SourceFile, source: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(contract column -> expression, the row-problem conditions as ``(condition, 'column|reason')``
    SQL pairs joined into one CASE by the caller), given ``source``: contract column -> the
    expression of its mapped source column."""
    m = sf.mapping
    assert m is not None
    exprs: dict[str, str] = {}
    problems: list[str] = []
    for col in ENTITIES[sf.entity]:
        if col.name in source:
            v = source[col.name]
            if col.kind == "ts" and (m.formats or m.timezone):
                exprs[col.name] = _timestamp(v, m)
                problems.append(f"WHEN {v} IS NOT NULL AND {exprs[col.name]} IS NULL "
                                f"THEN {ql(col.name + '|unparseable timestamp')}")
            elif col.name in m.values:
                exprs[col.name] = _vocabulary(v, m.values[col.name])
                problems.append(f"WHEN {v} IS NOT NULL AND {exprs[col.name]} IS NULL "
                                f"THEN {ql(col.name + '|unmapped value')}")
            else:
                exprs[col.name] = v
        elif m.constants.get(col.name):
            exprs[col.name] = ql(m.constants[col.name])
        else:
            exprs[col.name] = "NULL::VARCHAR"
    return exprs, problems


def unmapped_notes(con: duckdb.DuckDBPyConnection, sf: SourceFile, relation: str,
                   source: dict[str, str], names: dict[str, str]) -> list[str]:
    """One note per vocabulary column with values the mapping does not map: the values and how
    many rows each (rejected as ``unmapped value``). ``names``: contract column -> source name."""
    m = sf.mapping
    assert m is not None
    notes = []
    for col, words in sorted(m.values.items()):
        v = source[col]
        found = con.execute(
            f"SELECT {v} AS value, count(*) AS n FROM {relation} WHERE {v} IS NOT NULL AND lower({v}) NOT IN "
            f"({', '.join(ql(w) for w in words) or 'NULL'}) GROUP BY 1 ORDER BY n DESC, value LIMIT {MAX_LISTED + 1}"
        ).fetchall()
        if found:
            listed = ", ".join(f"{value!r} ({n:,})" for value, n in found[:MAX_LISTED])
            more = " and more" if len(found) > MAX_LISTED else ""
            notes.append(f"values of {names[col]} ({col}) with no mapping in {m.rel}, rows rejected: "
                         f"{listed}{more}")
    return notes

