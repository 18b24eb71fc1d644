"""Quoting names and values into the SQL the loader writes."""

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
