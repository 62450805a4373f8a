{#
    Route each layer to its own schema (set with +schema in dbt_project.yml).

    - targets `prod` (what Dagster builds) and `published` (the same warehouse as readers see it,
      read-only: docs, MetricFlow): the custom schema as is (staging, finance, ...).
    - any other target: `<target.schema>_<custom>` (e.g. dev_finance), as dbt's docs recommend,
      so development builds never overwrite production tables in the same warehouse.
    - nodes without a custom schema fall back to the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- elif target.name in ('prod', 'published') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
