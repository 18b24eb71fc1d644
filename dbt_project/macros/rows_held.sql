{#-
    The data tests of the incremental models check the rows a build added: their `where`
    config reads `delivery_rank > rows_held('<model>')`, and this replaces each
    rows_held('<model>') with the highest delivery rank that model held before the build
    (CX311_ROWS_HELD, JSON, from the pipeline: pipeline/transform.py prepare_row_models; 0 for
    a model not named, which is then tested whole). The ranks are read here, as the test runs,
    not in the YAML: dbt parses a YAML file again whenever an environment variable the file
    reads changes, and the ranks change with every delivery (0.7 s a build). dbt looks up
    get_where_subquery in the root project first; anything else is dbt's own.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- set filter = namespace(text=where) -%}
    {%- if execute -%}
        {%- set held = fromjson(env_var('CX311_ROWS_HELD', '{}')) -%}
        {%- for model in modules.re.findall("rows_held\\('(\\w+)'\\)", where) -%}
            {%- set filter.text = filter.text | replace("rows_held('" ~ model ~ "')", held.get(model, 0) | int | string) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ filter.text }}) dbt_subquery
    {%- endset -%}
    {{- return(filtered) -}}
{%- endmacro %}
