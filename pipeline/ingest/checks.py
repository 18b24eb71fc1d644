"""The SQL that types and checks a row: each contract column's landing-typed value, and the
first problem of a row as ``'column|reason'`` (the reasons are fixed phrases, listed in
:data:`KIND_CHECKS`, :data:`REQUIRED_WHEN`, :data:`CROSS_CHECKS`, :func:`bound_checks` and
"implausible date" in :func:`row_checks`).

The plausibility bounds of a file's timestamps are the session variables ``cx_earliest`` and
``cx_latest`` (TIMESTAMPTZ), set by :func:`set_bounds` before its rows are checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from .. import contract
from ..contract import CHANNELS, ENTITIES, INTERACTION_TYPES, OUTCOMES, STATUS_MAP, Col
from .local_time import QUICK
from .sql import in_list, qi, ql


def macros(tz: str) -> list[str]:
    """The loader's SQL macros, for the profile's time zone ``tz`` (a checked IANA name)."""
    return [m.replace("{TZ}", tz) for m in _MACROS]


_MACROS = [
    """CREATE OR REPLACE TEMP MACRO _local_ts(t) AS CASE
        WHEN t IS NULL THEN NULL
        WHEN hour(t) NOT IN (1, 2) THEN timezone('{TZ}', t)
        WHEN timezone('{TZ}', timezone('{TZ}', t) - INTERVAL 1 HOUR) = t
            THEN timezone('{TZ}', t) - INTERVAL 1 HOUR
        WHEN timezone('{TZ}', timezone('{TZ}', t)) = t THEN timezone('{TZ}', t)
    END""",
    # The same in a named time zone (a mapped extract's own, pipeline/ingest/mapped.py).
    """CREATE OR REPLACE TEMP MACRO _local_ts_in(t, tz) AS CASE
        WHEN t IS NULL THEN NULL
        WHEN hour(t) NOT IN (1, 2) THEN timezone(tz, t)
        WHEN timezone(tz, timezone(tz, t) - INTERVAL 1 HOUR) = t THEN timezone(tz, t) - INTERVAL 1 HOUR
        WHEN timezone(tz, timezone(tz, t)) = t THEN timezone(tz, t)
    END""",
    # An instant's local date.
    """CREATE OR REPLACE TEMP MACRO _local_date(t) AS CAST(timezone('{TZ}', t) AS DATE)""",
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

# --------------------------------------------------------------------------- source types

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT"}
SIMPLE_TYPES = {"VARCHAR": "varchar", '"NULL"': "varchar", "NULL": "varchar", "DATE": "date",
                "TIMESTAMPTZ": "timestamptz", "FLOAT": "float", "DOUBLE": "float",
                "REAL": "float", "BOOLEAN": "boolean"} | dict.fromkeys(INTEGER_TYPES, "integer")


def category(dtype: str) -> str:
    """The kind of a staged column's DuckDB type: varchar, timestamptz, timestamp, date,
    integer, float, boolean or other."""
    t = dtype.upper()
    if t in SIMPLE_TYPES:
        return SIMPLE_TYPES[t]
    if t.startswith("TIMESTAMP WITH TIME ZONE"):
        return "timestamptz"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.startswith("DECIMAL"):
        return "float"
    return "other"


# --------------------------------------------------------------------------- typed values


def typed_expr(col: Col, cat: str) -> str:
    """Expression turning the staged column into its landing type (NULL when invalid)."""
    x = qi(col.name)
    if cat == "other":
        x, cat = f"CAST({x} AS VARCHAR)", "varchar"
    return TYPERS.get(col.kind, _text)(x, cat, col)


def _timestamp(x: str, cat: str, col: Col) -> str:
    # a local time from the file's own type: the offset looked up (local_time.py)
    return {
        "timestamptz": x,
        "timestamp": f"{QUICK}(CAST({x} AS TIMESTAMP))",
        "date": f"{QUICK}(CAST({x} AS TIMESTAMP))",
    }.get(cat, f"_parse_ts(CAST({x} AS VARCHAR))")


def needs_quick_macro(entity: str, types: dict[str, str]) -> bool:
    """Whether the typed columns of a file with the staged column ``types`` call the
    ``_local_ts_quick`` macro (:mod:`.local_time`): a timestamp column the file types itself."""
    return any(col.kind == "ts" and category(types[col.name]) in ("timestamp", "date")
               for col in ENTITIES[entity])


def _date(x: str, cat: str, col: Col) -> str:
    return {
        "date": x,
        "timestamp": f"CAST({x} AS DATE)",
        "timestamptz": f"_local_date({x})",
    }.get(
        cat,
        rf"""coalesce(CASE WHEN regexp_full_match({x}, '\d{{4}}-\d{{2}}-\d{{2}}')
                THEN try_cast({x} AS DATE) END, _local_date(_parse_ts({x})))""",
    )


def _whole_number(x: str, cat: str, col: Col) -> str:
    if cat == "integer":
        return f"CAST({x} AS BIGINT)"
    if cat == "float":
        return f"_int(CAST({x} AS DOUBLE))"
    return f"_int(try_cast(CAST({x} AS VARCHAR) AS DOUBLE))"


def _boolean(x: str, cat: str, col: Col) -> str:
    if cat == "boolean":
        return x
    v = f"lower(trim(CAST({x} AS VARCHAR)))"
    return (
        f"CASE WHEN {v} IN ('true', '1', 'yes', 'y') THEN true "
        f"WHEN {v} IN ('false', '0', 'no', 'n') THEN false END"
    )


def _coordinate(x: str, cat: str, col: Col) -> str:
    lim = 90 if col.name == "latitude" else 180
    d = f"CAST({x} AS DOUBLE)" if cat in ("integer", "float") else f"try_cast({x} AS DOUBLE)"
    return f"CASE WHEN isfinite({d}) AND abs({d}) <= {lim} THEN {d} END"


ALLOWED = {"channel": CHANNELS, "itype": INTERACTION_TYPES, "outcome": OUTCOMES}


# A code is normalised (_norm: four string functions, each copying the value) only when it is
# not already one of the normal forms, as extracts usually give them: a normal form is its own
# normal form, so the value is the same either way. The normal forms are tried one WHEN at a
# time (each WHEN compares only the rows no earlier one matched; an IN list compares every row
# with every value), after the blank values (which the comparisons would carry to the end).


def _code(x: str, cat: str, col: Col) -> str:
    v, n, allowed = f"CAST({x} AS VARCHAR)", f"_norm(CAST({x} AS VARCHAR))", ALLOWED[col.kind]
    given = " ".join(f"WHEN {v} = {ql(a)} THEN {v}" for a in allowed)
    return f"CASE WHEN {v} IS NULL THEN NULL {given} WHEN {n} IN {in_list(allowed)} THEN {n} END"


def _status(x: str, cat: str, col: Col) -> str:
    v, n = f"CAST({x} AS VARCHAR)", f"_norm(CAST({x} AS VARCHAR))"
    given = " ".join(f"WHEN {v} = {ql(a)} THEN {ql(b)}" for a, b in STATUS_MAP.items())
    whens = " ".join(f"WHEN {ql(a)} THEN {ql(b)}" for a, b in STATUS_MAP.items())
    return f"CASE WHEN {v} IS NULL THEN NULL {given} ELSE (CASE {n} {whens} END) END"


def _text(x: str, cat: str, col: Col) -> str:
    return f"CAST({x} AS VARCHAR)"


# (quoted staged column, its category, the contract column) -> typed expression, by kind
TYPERS: dict[str, Callable[[str, str, Col], str]] = {
    "ts": _timestamp,
    "date": _date,
    "seconds": _whole_number,
    "count": _whole_number,
    "bool": _boolean,
    "coord": _coordinate,
    "channel": _code,
    "itype": _code,
    "outcome": _code,
    "status": _status,
    "text": _text,
}

# --------------------------------------------------------------------------- row problems

# A check is (SQL condition, reason). In a condition, {c} is the typed column and {p} is true
# when the file gave a value (so "{p} AND {c} IS NULL" is a value that did not parse).
Check = tuple[str, str]
MISSING = "required value missing"
INVALID = "{p} AND {c} IS NULL"

# The checks of every column of a kind, in order.
KIND_CHECKS: dict[str, list[Check]] = {
    "ts": [(INVALID, "unparseable timestamp")],
    "date": [(INVALID, "unparseable date")],
    "seconds": [(INVALID, "non-integer seconds"), ("{c} < 0", "negative seconds"),
                ("{c} > 2147483647", "non-integer seconds")],
    "count": [(INVALID, "non-integer count"), ("{c} < 0", "negative count"),
              ("{c} > 2147483647", "non-integer count")],
    "bool": [(INVALID, "invalid boolean")],
    "coord": [(INVALID, "invalid coordinate")],
    "channel": [(INVALID, "unknown channel")],
    "itype": [(INVALID, "unknown interaction type")],
    "outcome": [(INVALID, "unknown outcome")],
    "status": [(INVALID, "unknown status")],
}
# Optional columns that are required on some rows: (entity, column) -> when.
REQUIRED_WHEN: dict[tuple[str, str], str] = {
    ("interactions", "outcome"): "channel IN ('phone', 'live_chat')",
    ("interactions", "queue_seconds"): "channel = 'phone'",
    ("interactions", "handle_seconds"): "channel IN ('phone', 'live_chat') AND outcome = 'answered'",
}
# Checks of a column against another column of the row, after the column's own checks.
CROSS_CHECKS: dict[tuple[str, str], list[Check]] = {
    ("service_requests", "closed_at"): [("closed_at < created_at", "closed before created")],
}


IMPLAUSIBLE_DATE = "implausible date"
IMPLAUSIBLE_DURATION = "implausible duration"
NUL = "NUL character"
TOO_LONG = "field too long"


def bound_checks(col: Col) -> list[Check]:
    """The size and duration checks of a column (the limits are read from the contract when
    the SQL is made): a NUL character or more than FIELD_MAX_BYTES in a text, a duration over
    MAX_PLAUSIBLE_SECONDS. (A timestamp or date outside the file's plausible range is checked
    with its "unparseable" check: see :func:`row_checks`.)"""
    return {
        "seconds": [(f"{{c}} > {int(contract.MAX_PLAUSIBLE_SECONDS)}", IMPLAUSIBLE_DURATION)],
        "text": [("contains({c}, chr(0))", NUL),
                 (f"strlen({{c}}) > {int(contract.FIELD_MAX_BYTES)}", TOO_LONG)],
    }.get(col.kind, [])


def plausible_range(kind: str) -> tuple[str, str]:
    """SQL of the earliest and latest plausible value of a timestamp (``ts``) or a ``date``."""
    if kind == "ts":
        return "getvariable('cx_earliest')", "getvariable('cx_latest')"
    return (f"DATE '{contract.EARLIEST_PLAUSIBLE.isoformat()}'",
            "_local_date(getvariable('cx_latest'))")


def set_bounds(con: duckdb.DuckDBPyConnection, bounds: tuple[dt.datetime, dt.datetime]) -> None:
    """Set the plausible range (earliest, latest instant) of the next file's timestamps."""
    for name, value in zip(("cx_earliest", "cx_latest"), bounds, strict=True):
        con.execute(f"SET VARIABLE {name} = CAST(? AS TIMESTAMPTZ)", [value.isoformat()])


def column_checks(entity: str, col: Col) -> list[Check]:
    """The value checks of one column, in the order they are tried (the row checks add the
    column's :func:`bound_checks` before the cross checks)."""
    checks: list[Check] = []
    if col.required:
        checks.append(("NOT {p}", MISSING))
    elif (entity, col.name) in REQUIRED_WHEN:
        checks.append(("NOT {p} AND " + REQUIRED_WHEN[entity, col.name], MISSING))
    checks += KIND_CHECKS.get(col.kind, [])
    checks += CROSS_CHECKS.get((entity, col.name), [])
    return checks


When = tuple[str, str]  # (condition, THEN expression), with the {c} and {p} of a Check


def row_checks(entity: str, col: Col) -> list[When]:
    """The value checks of one column, in order, cross checks last, as few conditions as
    give the same first problem: the CASE of a row tries every condition on every valid row
    (most of the cost of the checks), the THEN only on the rare row that fails.

    - A value that does not parse and one out of its range (a timestamp or date outside the
      plausible range; whole seconds or counts below 0 or above 2147483647) are found by one
      condition, which names the reason in its THEN. (A Parquet file's typed values are a
      view, whose expression, a time zone conversion for a local time, is computed again
      wherever the checks mention the value: a valid row computes it once here.)
    - A required column's "value missing" joins its value's condition: a typed value is NULL
      when the file gave none (every typer keeps a NULL), and a NULL value fails that
      condition, so "given and failing" or "not given" is "failing"."""
    checks, whens, i = column_checks(entity, col), [], 0
    while i < len(checks):
        condition, reason = checks[i]
        missing = condition == "NOT {p}" and col.required and i + 1 < len(checks) and checks[i + 1][0] == INVALID
        if condition == INVALID or missing:
            start = i + 1 if missing else i
            fails, thens, i = _value_fails(col, checks, start)
            if missing:
                whens.append((fails, _first_of([("NOT {p}", _label(col, reason)), *thens])))
            else:
                whens.append((f"{{p}} AND {fails}", _first_of(thens)))
        else:
            whens.append((condition, _label(col, reason)))
            i += 1
    return whens


WHOLE_RANGE = ("{c} < 0", "{c} > 2147483647")  # the checks after a whole number's INVALID


def _value_fails(col: Col, checks: list[Check], i: int) -> tuple[str, list[When], int]:
    """For ``checks[i]``, a value's INVALID check, and the range checks right after it: one
    condition that holds when any of them holds on a value given (and on a NULL value), the
    (condition, THEN) of each reason in order, and the index of the next check."""
    reason = checks[i][1]
    if col.kind in ("ts", "date"):
        low, high = plausible_range(col.kind)
        return (f"coalesce({{c}} NOT BETWEEN {low} AND {high}, true)",
                [("{c} IS NULL", _label(col, reason)), ("true", _label(col, IMPLAUSIBLE_DATE))], i + 1)
    after = checks[i + 1:i + 1 + len(WHOLE_RANGE)]
    if tuple(c for c, _ in after) == WHOLE_RANGE:
        return ("coalesce({c} NOT BETWEEN 0 AND 2147483647, true)",
                [("{c} IS NULL", _label(col, reason)), ("{c} < 0", _label(col, after[0][1])),
                 ("true", _label(col, after[1][1]))], i + 1 + len(WHOLE_RANGE))
    return "{c} IS NULL", [("true", _label(col, reason))], i + 1


def _first_of(whens: list[When]) -> str:
    """The THEN of the first condition that holds, as SQL (the last condition may be true)."""
    if len(whens) == 1 and whens[0][0] == "true":
        return whens[0][1]
    return "CASE " + " ".join(f"WHEN {c} THEN {t}" for c, t in whens) + " END"


def _label(col: Col, reason: str) -> str:
    return ql(f"{col.name}|{reason}")


def problem_expr(entity: str) -> str:
    """CASE giving 'column|reason' for the first problem in a row of the typed table: the value
    checks of every column (in contract order), then the bound checks of every column (placed
    last, they cost less: measured on the demo's Parquet files)."""
    cols = ENTITIES[entity]
    checks = [(col, when) for col in cols for when in row_checks(entity, col)]
    checks += [(col, (condition, _label(col, reason))) for col in cols
               for condition, reason in bound_checks(col)]
    whens = [
        f"WHEN {condition.format(c=qi(col.name), p=qi(col.name + '__p'))} "
        f"THEN {then.format(c=qi(col.name), p=qi(col.name + '__p'))}"
        for col, (condition, then) in checks
    ]
    return "CASE " + "\n".join(whens) + " END"


def typed_columns(entity: str, types: dict[str, str]) -> list[str]:
    """``_line`` and, per contract column, its typed value and ``<column>__p`` (the file gave
    a value), from the staged columns' DuckDB ``types``."""
    parts = ["_line"]
    for col in ENTITIES[entity]:
        parts.append(f"{typed_expr(col, category(types[col.name]))} AS {qi(col.name)}")
        parts.append(f"{qi(col.name)} IS NOT NULL AS {qi(col.name + '__p')}")
    return parts
