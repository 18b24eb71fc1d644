{#- A service request type's name as the documents show it, from the SQL expression `expression`
    (docs/data-contract.md, "Service request type names"): the City's exports write a comma
    inside a type name as '||' ('Water Service Line - Low Pressure|| Low Flow Inspection -
    (Sudden)'), so every run of '|' with the white space around it reads ', ', a '|' at either
    end is dropped, every run of white space is one space, and the name is trimmed ('Water
    Service Line - Low Pressure, Low Flow Inspection - (Sudden)'). The extracts' types and the
    service standards' (stg_raw__service_standards) are cleaned alike, so they still match. -#}
{% macro clean_type_name(expression) -%}
    trim({{ cx311.regexp_replace(
        cx311.regexp_replace(
            cx311.regexp_replace(expression, '^[\s|]+|[\s|]+$', '', all=true),
            '\s*\|+\s*', ', ', all=true),
        '\s+', ' ', all=true) }})
{%- endmacro %}
