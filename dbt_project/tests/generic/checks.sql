{#-
    Every data test of one model (seed, source table) in one query: one dbt node where the
    usual column tests would be several. dbt's Python costs about 35 ms a node, under the GIL,
    whatever the query: 162 test nodes were about 3 s of a cold build's 7.5 s run (issue 26).

    The checks, each failing as dbt's own test of the same name would:
      not_null: [column, ...]               a row where the column is null
      unique: [column, ...]                 a value held by more than one row (nulls aside)
      unique_combination: [[column, ...]]   a combination held by more than one row (nulls equal)
      accepted_values: {column: [value]}    a row whose value is not listed (nulls pass)
      expressions: ["sql", ...]             a row where the expression is not true (null fails)
      relationships: {column: {to: "ref('parent')", field: parent_column}}
                                            a value, not null, that the parent does not hold
      sums_to_one: {column: [group column]} a group whose column does not add up to 1 (1e-9)

    The query returns one row per failing check: its name and how many rows (values,
    combinations, groups) fail it, so dbt's count of results is the number of failing checks, and the build's
    failure message names each one (materializations/duckdb.sql, the data test). The row
    checks share one scan of the model; each key check groups it once. A `where` config
    filters the model as for any test (macros/rows_held.sql).
-#}
{% test checks(model, not_null=[], unique=[], unique_combination=[], accepted_values={}, expressions=[],
               relationships={}, sums_to_one={}) %}
    {%- set row_checks = [] -%}
    {%- for column in not_null -%}
        {%- do row_checks.append(('not_null(' ~ column ~ ')', column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set listed = [] -%}
        {%- for value in values -%}
            {%- do listed.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- do row_checks.append(('accepted_values(' ~ column ~ ')',
                                  column ~ ' is not null and ' ~ column ~ ' not in ('
                                  ~ listed | join(', ') ~ ')')) -%}
    {%- endfor -%}
    {%- for expression in expressions -%}
        {%- do row_checks.append(('expression(' ~ expression ~ ')', 'not coalesce((' ~ expression ~ '), false)')) -%}
    {%- endfor -%}

    {#- each check's name as a SQL string's text: no quote or backslash to escape on any engine -#}
    {%- set names = [] -%}
    {%- set counts = [] -%}
    {%- for name, condition in row_checks -%}
        {%- set label = name | replace("'", '"') | replace('\\', '/') | replace('\n', ' ') -%}
        {%- do names.append("select " ~ loop.index ~ " as check_number, '" ~ label ~ "' as check_name") -%}
        {%- do counts.append("when " ~ loop.index ~ " then check_" ~ loop.index) -%}
    {%- endfor -%}
    {%- set failing = [] -%}
    {%- if row_checks -%}
        {#- the one row of counts, once per row check (a CTE read once: Spark inlines each read) -#}
        {%- do failing.append("select check_name, case check_number " ~ counts | join(' ') ~ " end as failures,"
                              ~ " 'rows' as counted from row_checks cross join (" ~ names | join(' union all ')
                              ~ ") row_check_names") -%}
    {%- endif -%}
    {%- for column in unique -%}
        {%- do failing.append("select 'unique(" ~ column ~ ")' as check_name, count(*) as failures,"
                              ~ " 'values' as counted from (select " ~ column ~ " from " ~ model
                              ~ " where " ~ column ~ " is not null group by " ~ column
                              ~ " having count(*) > 1) repeated") -%}
    {%- endfor -%}
    {%- for columns in unique_combination -%}
        {%- set key = columns | join(', ') -%}
        {%- do failing.append("select 'unique_combination(" ~ key ~ ")' as check_name, count(*) as failures,"
                              ~ " 'combinations' as counted from (select " ~ key ~ " from " ~ model
                              ~ " group by " ~ key ~ " having count(*) > 1) repeated") -%}
    {%- endfor -%}
    {%- for column, parent in relationships.items() -%}
        {%- do failing.append("select 'relationships(" ~ column ~ ")' as check_name, count(*) as failures,"
                              ~ " 'values' as counted from (select distinct " ~ column ~ " as value from " ~ model
                              ~ " where " ~ column ~ " is not null) child left join (select distinct "
                              ~ parent.field ~ " as value from " ~ parent.to ~ ") parent"
                              ~ " on child.value = parent.value where parent.value is null") -%}
    {%- endfor -%}
    {%- for column, group_by in sums_to_one.items() -%}
        {%- set groups = group_by | join(', ') -%}
        {%- do failing.append("select 'sums_to_one(" ~ column ~ ")' as check_name, count(*) as failures,"
                              ~ " 'groups' as counted from (select " ~ groups ~ " from " ~ model
                              ~ " group by " ~ groups ~ " having abs(sum(" ~ column ~ ") - 1) > 1e-9) off_by") -%}
    {%- endfor -%}

    {%- if row_checks %}
with row_checks as (
    select
        {%- for name, condition in row_checks %}
        sum(case when {{ condition }} then 1 else 0 end) as check_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
)
{% endif -%}
select check_name, failures, counted
from (
    {{ failing | join('\n    union all\n    ') }}
) checks
where failures > 0
{% endtest %}
