{#
    A deterministic hash key over one or more columns, portable through dbt.hash and dbt.concat.

    Null-safe: a null becomes a sentinel instead of nulling the whole concat, so (1, null) and
    (null, 1) hash differently and never to null. A separator between fields keeps ('ab', 'c')
    apart from ('a', 'bc').

    Usage: {{ generate_surrogate_key(['customer_id', 'product', 'date_day']) }}
#}
{% macro generate_surrogate_key(field_list) -%}
    {%- if field_list is string or field_list is not iterable or field_list | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "generate_surrogate_key expects a non-empty list of column expressions, got: "
            ~ field_list ~ " (in " ~ model.unique_id ~ ")"
        ) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for field in field_list -%}
        {%- do parts.append(
            "coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_techflow_null_')"
        ) -%}
        {%- if not loop.last -%}
            {%- do parts.append("'|'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
