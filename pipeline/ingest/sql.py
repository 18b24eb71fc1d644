"""Quoting names and values into the SQL the loader writes, and the one rule for a text value
(trimmed, blank as NULL)."""

from __future__ import annotations


def qi(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(values: tuple[str, ...] | list[str]) -> str:
    """``('a', 'b')``: the values as a parenthesised list of string literals."""
    return "(" + ", ".join(ql(v) for v in values) + ")"


def column_list(names: list[str], prefix: str = "") -> str:
    """``"a", "b"`` or, with a table alias, ``t."a", t."b"``."""
    return ", ".join(prefix + qi(n) for n in names)


def blank_as_null(col: str) -> str:
    """The text of ``col`` (a column reference: it is named several times) trimmed as DuckDB's
    ``trim`` trims (space separators, Unicode category Zs), NULL when nothing is left.

    ``trim`` copies every value, most of which it leaves as they are: on an id column (every
    value different, so DuckDB cannot trim a dictionary once) that copy costs about twice the
    checks below. A non-empty value of ASCII characters only (its byte
    length equals its character count) that neither starts nor ends with a space is one of
    them (the space is the only ASCII space separator), and is taken as it is; only the others
    go through ``trim``; a NULL is taken first (the tests below would send it there too)."""
    return (f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} <> '' AND NOT prefix({col}, ' ') AND NOT suffix({col}, ' ') "
            f"AND strlen({col}) = length({col}) THEN {col} ELSE nullif(trim({col}), '') END")
