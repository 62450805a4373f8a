{#
    Every non-null value of the column lies in [min_value, max_value] (or the open interval when
    strictly=true). Either bound may be omitted. row_condition narrows the rows checked.
    Fails with the offending rows, so `dbt build --store-failures` shows them.
#}
{% test expect_column_values_to_be_between(
    model, column_name, min_value=none, max_value=none, strictly=false, row_condition=none
) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error(
            "expect_column_values_to_be_between on " ~ model ~ "." ~ column_name
            ~ ": give min_value, max_value or both"
        ) }}
    {%- endif -%}
    {%- set lower_op = '<=' if strictly else '<' -%}
    {%- set upper_op = '>=' if strictly else '>' -%}

    select {{ column_name }} as out_of_range_value
    from {{ model }}
    where {{ column_name }} is not null
        {%- if row_condition %}
        and ({{ row_condition }})
        {%- endif %}
        and (
            false
            {%- if min_value is not none %}
            or {{ column_name }} {{ lower_op }} {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
            or {{ column_name }} {{ upper_op }} {{ max_value }}
            {%- endif %}
        )
{% endtest %}
