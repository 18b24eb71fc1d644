{#- A relation of one column, `column`, holding start, start + step, … up to but excluding
    `stop` (DuckDB's range()): dates or timestamps with an interval step. Use it in a from
    clause: `from {{ cx311.date_series('a', 'b', 'interval 1 day', 'day') }}`. -#}
{% macro date_series(start, stop, step, column) -%}
    {{ return(adapter.dispatch('date_series', 'cx311')(start, stop, step, column)) }}
{%- endmacro %}

{% macro duckdb__date_series(start, stop, step, column) -%}
    range(
        {{ start }},
        {{ stop }},
        {{ step }}
    ) as t({{ column }})
{%- endmacro %}

{#- Spark's sequence() includes its stop: the values from start to stop, less stop itself. -#}
{% macro spark__date_series(start, stop, step, column) -%}
    (
        select {{ column }}
        from (select explode(sequence({{ start }}, {{ stop }}, {{ step }})) as {{ column }}) as s
        where {{ column }} < {{ stop }}
    ) as t
{%- endmacro %}

{#- A select of one column, `column`, holding the integers start, start + 1, … stop - 1
    (literals or constant expressions, start < stop). -#}
{% macro integer_series(start, stop, column) -%}
    {{ return(adapter.dispatch('integer_series', 'cx311')(start, stop, column)) }}
{%- endmacro %}

{% macro duckdb__integer_series(start, stop, column) -%}
    select unnest(range({{ start }}, {{ stop }})) as {{ column }}
{%- endmacro %}

{% macro spark__integer_series(start, stop, column) -%}
    select explode(sequence({{ start }}, ({{ stop }}) - 1)) as {{ column }}
{%- endmacro %}
