{#-
    DuckDB's table, view and data test materializations, lighter than dbt-duckdb's and dbt's
    own: dbt's Python per node, under the GIL, was about half of a cold build (issue 26).
    They live apart from macros/, which sqlfluff's templater loads (it knows no
    materialization tag). Spark keeps dbt-spark's: these are for the duckdb adapter only.

    table, view: one statement, `create or replace` the relation, in the transaction its
    hooks share, then commit. dbt-duckdb's build a `__dbt_tmp` relation and swap it in (the
    old one renamed aside, the new one renamed in, the old one dropped), each step an adapter
    macro call that builds a fresh Jinja context: about 40 ms of Python per model. DuckDB
    replaces a relation atomically in a transaction, so the swap buys nothing here: a failed
    statement rolls back and leaves the previous relation. A model that asks for what the
    swap also serves (a contract, constraints, indexes, grants, persisted docs, a SQL header,
    DuckLake's partitioning or sorting, Python) gets dbt-duckdb's own materialization.
-#}

{% materialization table, adapter='duckdb' %}
    {%- if cx311.needs_adapter_materialization() -%}
        {{- return(dbt.materialization_table_duckdb()) -}}
    {%- endif -%}
    {{- return(cx311.replace_relation('table')) -}}
{% endmaterialization %}

{% materialization view, adapter='duckdb' %}
    {%- if cx311.needs_adapter_materialization() -%}
        {{- return(dbt.materialization_view_default()) -}}
    {%- endif -%}
    {{- return(cx311.replace_relation('view')) -}}
{% endmaterialization %}

{% macro replace_relation(relation_type) %}
    {%- set existing = load_cached_relation(this) -%}
    {%- set target = this.incorporate(type=relation_type) -%}

    {{- run_hooks(pre_hooks, inside_transaction=False) -}}
    {#- a view becoming a table or the other way round: DuckDB replaces only its own kind -#}
    {%- if existing is not none and existing.type != relation_type -%}
        {%- do adapter.drop_relation(existing) -%}
    {%- endif -%}
    {{- run_hooks(pre_hooks, inside_transaction=True) -}}

    {%- call statement('main') -%}
        create or replace {{ relation_type }} {{ target }} as (
            {{ sql }}
        );
    {%- endcall -%}

    {{- run_hooks(post_hooks, inside_transaction=True) -}}
    {%- do adapter.commit() -%}
    {{- run_hooks(post_hooks, inside_transaction=False) -}}

    {{- return({'relations': [target]}) -}}
{% endmacro %}

{#- Whether the model asks for something replace_relation does not do. -#}
{% macro needs_adapter_materialization() %}
    {%- set asked = model.language != 'sql' or config.get('contract').enforced or model.constraints
        or model.columns.values() | selectattr('constraints') | list
        or config.get('grants') or config.get('persist_docs') or config.get('sql_header')
        or config.get('indexes') or config.get('partitioned_by') or config.get('sorted_by') -%}
    {{- return(true if asked else false) -}}
{% endmacro %}

{#-
    data test: the test's query alone, without the transaction dbt opens around it (DuckDB
    runs a lone query in its own): a BEGIN, its events and the rollback as the connection is
    released are about 3 ms of Python per test. The query is dbt's own (get_test_sql), so a
    test fails, warns and counts as it always did. Storing failures, or a SQL header, takes
    dbt's own materialization. When a `checks` test (tests/generic/checks.sql) finds
    something, its failing checks are logged by name with their counts, beside dbt's own
    "Got N results": the query runs a second time, only then.
-#}
{% materialization test, adapter='duckdb' %}
    {%- if should_store_failures() or config.get('sql_header') -%}
        {{- return(dbt.materialization_test_default()) -}}
    {%- endif -%}
    {%- call statement('main', fetch_result=True, auto_begin=False) -%}
        {{ get_test_sql(get_limit_subquery_sql(sql, config.get('limit')), config.get('fail_calc'),
                        config.get('warn_if'), config.get('error_if'), limit=none) }}
    {%- endcall -%}
    {%- if model.test_metadata and model.test_metadata.name == 'checks'
          and load_result('main')['table'].rows[0][0] > 0 -%}
        {%- for check in run_query(sql).rows -%}
            {%- do log(model.name ~ ': ' ~ check[0] ~ ' fails for ' ~ check[1] ~ ' ' ~ check[2], info=True) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return({'relations': []}) -}}
{% endmaterialization %}
