{#- The key a BIA name is matched on, from the SQL expression `expression`: lower case, every
    run of white space one space, trimmed, a trailing ' bia' dropped ('  Kensington   Market
    BIA' and 'kensington market' are both 'kensington market'). The extracts' spellings are
    matched to the seed on it (int_sr_bias), and a seed's extent with it (mart_bia_directory). -#}
{% macro bia_key(expression) -%}
    {{ cx311.regexp_replace(
        "lower(trim(" ~ cx311.regexp_replace(expression, '\s+', ' ', all=true) ~ "))", '\s+bia$', ''
    ) }}
{%- endmacro %}
