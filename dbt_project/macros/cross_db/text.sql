{#- Text: regular expressions and ordered string aggregation.

    Patterns are given as they are meant (one backslash: '\s+'); each engine gets them quoted
    its own way (Spark: a raw string literal r'…', since '\s' in a plain Spark literal loses
    its backslash). Both regular-expression engines (RE2, java.util.regex) read \s, \d, {m,n}, (…), ^
    and $ alike. -#}

{#- A regular expression as a string literal. -#}
{% macro regex_literal(pattern) -%}
    {%- if "'" in pattern -%}
        {{ exceptions.raise_compiler_error("cx311 regular expressions may not contain a single quote: " ~ pattern) }}
    {%- endif -%}
    {{ return(adapter.dispatch('regex_literal', 'cx311')(pattern)) }}
{%- endmacro %}

{% macro default__regex_literal(pattern) -%}
    '{{ pattern }}'
{%- endmacro %}

{% macro spark__regex_literal(pattern) -%}
    r'{{ pattern }}'
{%- endmacro %}

{#- `expression` with the first match of `pattern` replaced, or every match (all=true). -#}
{% macro regexp_replace(expression, pattern, replacement, all=false) -%}
    {{ return(adapter.dispatch('regexp_replace', 'cx311')(expression, pattern, replacement, all)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace(expression, pattern, replacement, all) -%}
    regexp_replace({{ expression }}, {{ cx311.regex_literal(pattern) }}, '{{ replacement }}'{% if all %}, 'g'{% endif %})
{%- endmacro %}

{#- Spark replaces every match: the first one only is the shortest prefix before a match,
    kept ($1), then the replacement (no group references in `replacement` then). -#}
{% macro spark__regexp_replace(expression, pattern, replacement, all) -%}
    {%- if all -%}
    regexp_replace({{ expression }}, {{ cx311.regex_literal(pattern) }}, '{{ replacement }}')
    {%- else -%}
    regexp_replace({{ expression }}, {{ cx311.regex_literal('(?s)^(.*?)(?:' ~ pattern ~ ')') }}, '$1{{ replacement }}')
    {%- endif -%}
{%- endmacro %}

{#- The `group`th group of the first match of `pattern` in `expression`; '' when there is no
    match (both engines), null for null. -#}
{% macro regexp_extract(expression, pattern, group) -%}
    {{ return(adapter.dispatch('regexp_extract', 'cx311')(expression, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_extract(expression, pattern, group) -%}
    regexp_extract({{ expression }}, {{ cx311.regex_literal(pattern) }}, {{ group }})
{%- endmacro %}

{#- True when the whole of `expression` matches `pattern`. -#}
{% macro regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'cx311')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, {{ cx311.regex_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_full_match(expression, pattern) -%}
    ({{ expression }} rlike {{ cx311.regex_literal('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}

{#- True when `pattern` matches somewhere in `expression`. -#}
{% macro regexp_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches', 'cx311')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ cx311.regex_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ cx311.regex_literal(pattern) }})
{%- endmacro %}

{#- The group's `expression` values joined by `separator`, in `order_by` order (an aggregate). -#}
{% macro string_agg(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('string_agg', 'cx311')(expression, separator, order_by)) }}
{%- endmacro %}

{% macro duckdb__string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, '{{ separator }}' order by {{ order_by }})
{%- endmacro %}

{% macro default__string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, '{{ separator }}') within group (order by {{ order_by }})
{%- endmacro %}
