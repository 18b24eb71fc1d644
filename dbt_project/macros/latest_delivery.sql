{#-
    Which version of a repeated id counts, newest first: for a service request the latest
    `updated_at` (a version with one is newer than a version without), then for every entity
    the later delivery (the higher delivery rank: a file's place, fixed when the warehouse
    first loaded it), then the later line of one file. The one statement of the rule: the
    row-level models pick with it and int_sr_versions says which part of it decided.
-#}
{% macro version_order(entity) -%}
    {%- if entity == 'service_requests' -%}
        updated_at desc nulls last, delivery_rank desc, source_line desc
    {%- else -%}
        delivery_rank desc, source_line desc
    {%- endif -%}
{%- endmacro %}

{#-
    The latest version of every id in `rows` (a CTE of a staging model of `entity`, with
    delivery_rank and source_line, and updated_at for service requests): the first in
    version_order(entity). An id delivered once is its own latest version, so only the ids in
    `repeated_ids` (a CTE with column `id_column`, from the loader's raw.repeated_ids) are
    ranked; every other row passes through unsorted. When the loader listed no repeated id of
    the entity (any_repeated_id), every row is its own latest version: the rows are read once,
    as they are (the two-branch form would read them twice, and keeps them in memory between).
-#}
{% macro latest_delivery(rows, repeated_ids, id_column, entity) %}
    {%- if not any_repeated_id(entity) %}
    select {{ rows }}.*
    from {{ rows }}
    {%- else %}
    select {{ rows }}.*
    from {{ rows }}
    anti join {{ repeated_ids }} using ({{ id_column }})
    union all
    (
        select {{ rows }}.*
        from {{ rows }}
        semi join {{ repeated_ids }} using ({{ id_column }})
        qualify row_number() over (
            partition by {{ id_column }} order by {{ version_order(entity) }}
        ) = 1
    )
    {%- endif %}
{% endmacro %}

{#-
    Whether the loader listed any repeated id of `entity` (raw.repeated_ids, read through
    stg_raw__repeated_ids, which every model calling latest_delivery reads), asked when the
    model is compiled, just before it runs, on either engine. While dbt parses (no warehouse) and
    in a dbt unit test (its inputs are fixtures, not tables) the answer is yes: the full form,
    right whatever the ids.
-#}
{% macro any_repeated_id(entity) %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set listed = run_query(
        "select 1 from " ~ ref('stg_raw__repeated_ids') ~ " where entity = '" ~ entity ~ "' limit 1"
    ) -%}
    {{ return(listed.rows | length > 0) }}
{% endmacro %}
