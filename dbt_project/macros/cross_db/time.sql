{#- Time: local wall-clock time of an instant, seconds between two instants, ISO weekday. -#}

{#- The local time (a timestamp without time zone) of the instant `column` in the time zone
    `tz` (default: var timezone). On Spark the session time zone must be UTC (the profile sets
    spark.sql.session.timeZone; `cx311.check_session` checks it at the start of a run). -#}
{% macro local_time(column, tz=none) -%}
    {{ return(adapter.dispatch('local_time', 'cx311')(column, tz if tz is not none else var('timezone'))) }}
{%- endmacro %}

{% macro duckdb__local_time(column, tz) -%}
    timezone('{{ tz }}', {{ column }})
{%- endmacro %}

{% macro spark__local_time(column, tz) -%}
    cast(from_utc_timestamp({{ column }}, '{{ tz }}') as timestamp_ntz)
{%- endmacro %}

{% macro default__local_time(column, tz) -%}
    ({{ column }} at time zone '{{ tz }}')
{%- endmacro %}

{#- Real elapsed seconds from the instant `start` to the instant `end` (a double; a DST change
    adds or removes nothing): epoch(end) - epoch(start). DuckDB's epoch() of a timestamp with
    time zone is milliseconds / 1e3 + the remaining microseconds / 1e6; Spark computes the same
    doubles the same way, so the two engines agree to the last bit. -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'cx311')(start, end)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start, end) -%}
    epoch({{ end }}) - epoch({{ start }})
{%- endmacro %}

{% macro spark__seconds_between(start, end) -%}
    {{ cx311.spark_epoch(end) }} - {{ cx311.spark_epoch(start) }}
{%- endmacro %}

{% macro spark_epoch(column) -%}
    (unix_millis({{ column }}) / 1e3 + (unix_micros({{ column }}) - unix_millis({{ column }}) * 1000) / 1e6)
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    extract(epoch from {{ end }}) - extract(epoch from {{ start }})
{%- endmacro %}

{#- ISO day of the week of a date: 1 = Monday … 7 = Sunday. -#}
{% macro iso_day_of_week(date) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'cx311')(date)) }}
{%- endmacro %}

{% macro duckdb__iso_day_of_week(date) -%}
    isodow({{ date }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date) -%}
    (weekday({{ date }}) + 1)
{%- endmacro %}

{% macro default__iso_day_of_week(date) -%}
    extract(isodow from {{ date }})
{%- endmacro %}

{#- The type of an instant (a timestamp with time zone): for casts in fixtures and models. -#}
{% macro instant_type() -%}
    {{ return(adapter.dispatch('instant_type', 'cx311')()) }}
{%- endmacro %}

{% macro duckdb__instant_type() -%}
    timestamptz
{%- endmacro %}

{% macro spark__instant_type() -%}
    timestamp
{%- endmacro %}

{% macro default__instant_type() -%}
    timestamp with time zone
{%- endmacro %}

{#- Whole days from the date `start` to the date `end` (negative when end is earlier). -#}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'cx311')(start, end)) }}
{%- endmacro %}

{% macro duckdb__days_between(start, end) -%}
    date_diff('day', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__days_between(start, end) -%}
    datediff({{ end }}, {{ start }})
{%- endmacro %}
