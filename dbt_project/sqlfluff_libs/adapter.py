"""dbt's `adapter.quote` as DuckDB renders it, for sqlfluff's Jinja templater (lint only)."""


def quote(identifier):
    return f'"{identifier}"'
