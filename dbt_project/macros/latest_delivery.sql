{#-
    The latest delivery of every id in `rows` (a CTE of a staging model with delivery_rank and
    source_line): the highest delivery rank wins, then the later line. An id delivered once is
    its own latest delivery, so only the ids in `repeated_ids` (a CTE with column `id_column`,
    from the loader's raw.repeated_ids) are ranked; every other row passes through unsorted.
-#}
{% macro latest_delivery(rows, repeated_ids, id_column) %}
    select {{ rows }}.*
    from {{ rows }}
    anti join {{ repeated_ids }} using ({{ id_column }})
    union all
    (
        select {{ rows }}.*
        from {{ rows }}
        semi join {{ repeated_ids }} using ({{ id_column }})
        qualify row_number() over (
            partition by {{ id_column }} order by delivery_rank desc, source_line desc
        ) = 1
    )
{% endmacro %}
