{#- Where a request is, as the BIA reports name it: never a house number (docs/data-contract.md,
    "Locations").

    street_name: a street as recorded, cleaned of a leading house number ('123A Main St' and
    '10-12 Main St' are 'Main St') and of extra white space; null when nothing is left.

    location_name: the intersection of the two streets ('Bloor St W and Yonge St', the names in
    alphabetical order, so a corner reads the same whichever street was recorded first), or the
    one street recorded; null without either. -#}
{% macro street_name(expression) -%}
    nullif(trim({{ cx311.regexp_replace(
        cx311.regexp_replace(expression, '^\s*\d+[A-Za-z]?(\s*-\s*\d+[A-Za-z]?)?\s+', ''),
        '\s+', ' ', all=true) }}), '')
{%- endmacro %}

{% macro location_name(street_1, street_2) -%}
    case
        when {{ street_1 }} is not null and {{ street_2 }} is not null and {{ street_1 }} <> {{ street_2 }}
            then least({{ street_1 }}, {{ street_2 }}) || ' and ' || greatest({{ street_1 }}, {{ street_2 }})
        else coalesce({{ street_1 }}, {{ street_2 }})
    end
{%- endmacro %}
