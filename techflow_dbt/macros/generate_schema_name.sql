{#
    Route each layer to its own schema (set with +schema in dbt_project.yml).

    - target `prod`: the custom schema as is (staging, finance, ...), which Dagster and BI read.
    - any other target: `<target.schema>_<custom>` (e.g. dev_finance), as dbt's docs recommend,
      so development builds never overwrite production tables in the same warehouse.
    - nodes without a custom schema fall back to the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- elif target.name == 'prod' -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
