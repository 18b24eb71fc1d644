"""The DuckDB rendering of macros/cross_db/*.sql, for sqlfluff's Jinja templater (lint only)."""

TIMEZONE = "America/Toronto"  # var timezone of the shipped city profile (pipeline/data/city.yaml)


def local_time(column, tz=None):
    return f"timezone('{tz or TIMEZONE}', {column})"


def seconds_between(start, end):
    return f"epoch({end}) - epoch({start})"


def days_between(start, end):
    return f"date_diff('day', {start}, {end})"


def iso_day_of_week(date):
    return f"isodow({date})"


def instant_type():
    return "timestamptz"


def date_series(start, stop, step, column):
    return f"range(\n        {start},\n        {stop},\n        {step}\n    ) as t({column})"


def integer_series(start, stop, column):
    return f"select unnest(range({start}, {stop})) as {column}"


def regex_literal(pattern):
    return f"'{pattern}'"


def regexp_replace(expression, pattern, replacement, all=False):  # noqa: A002 (the macro's argument)
    flag = ", 'g'" if all else ""
    return f"regexp_replace({expression}, '{pattern}', '{replacement}'{flag})"


def regexp_extract(expression, pattern, group):
    return f"regexp_extract({expression}, '{pattern}', {group})"


def regexp_full_match(expression, pattern):
    return f"regexp_full_match({expression}, '{pattern}')"


def regexp_matches(expression, pattern):
    return f"regexp_matches({expression}, '{pattern}')"


def string_agg(expression, separator, order_by):
    return f"string_agg({expression}, '{separator}' order by {order_by})"


def median(expression, filter=None, over=None):  # noqa: A002 (the macro's argument)
    sql = f"median({expression})"
    if filter:
        sql += f" filter (where {filter})"
    if over:
        sql += f" over {over}"
    return sql


def float_divide(numerator, denominator):
    return f"{numerator} / {denominator}"


def row_materialization():
    return "incremental"


def new_deliveries_only():  # as in an incremental build (the model's own table named `this`)
    return ("\n    where\n        delivery_rank > 0\n"
            "        and delivery_rank > (select coalesce(max(delivery_rank), 0) from this)")
