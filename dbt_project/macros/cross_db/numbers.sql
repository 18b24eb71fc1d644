{#- Numbers: the median, and division that must give a double. -#}

{#- The median of `expression` (an aggregate), over the rows that pass `filter` (an aggregate
    filter's condition), or over the named window `over`. For an even count it is the mean of
    the two middle values computed as DuckDB does, 0.5 * lo + 0.5 * hi, so both engines give
    the same double (Spark's own median() computes lo + (hi - lo) * 0.5, which can differ in
    the last bit, and refuses a window frame). -#}
{% macro median(expression, filter=none, over=none) -%}
    {{ return(adapter.dispatch('median', 'cx311')(expression, filter, over)) }}
{%- endmacro %}

{% macro default__median(expression, filter, over) -%}
    median({{ expression }})
    {%- if filter is not none %} filter (where {{ filter }}){% endif %}
    {%- if over is not none %} over {{ over }}{% endif %}
{%- endmacro %}

{#- Spark: the two middle values by percentile_disc (the lower middle ascending, the upper one
    descending); in a window, from the sorted list of the frame's values. -#}
{% macro spark__median(expression, filter, over) -%}
    {%- set only = (" filter (where " ~ filter ~ ")") if filter is not none else "" -%}
    {%- if over is not none -%}
        {%- set values = "array_sort(collect_list(" ~ expression ~ ")" ~ only ~ " over " ~ over ~ ")" -%}
    (0.5D * {{ values }}[(size({{ values }}) - 1) div 2] + 0.5D * {{ values }}[size({{ values }}) div 2])
    {%- else -%}
    (0.5D * percentile_disc(0.5) within group (order by {{ expression }}){{ only }}
     + 0.5D * percentile_disc(0.5) within group (order by {{ expression }} desc){{ only }})
    {%- endif -%}
{%- endmacro %}

{#- numerator / denominator as a double when the numerator holds a decimal literal (1000.0):
    DuckDB divides decimals as doubles, Spark as decimals (6 decimal places). -#}
{% macro float_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('float_divide', 'cx311')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__float_divide(numerator, denominator) -%}
    {{ numerator }} / {{ denominator }}
{%- endmacro %}

{% macro spark__float_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / {{ denominator }}
{%- endmacro %}
