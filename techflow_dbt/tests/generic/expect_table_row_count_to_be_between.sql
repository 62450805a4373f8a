{#
    The model's row count (optionally of rows matching row_condition) lies in
    [min_value, max_value]. Catches silently empty builds and fan-out explosions.
#}
{% test expect_table_row_count_to_be_between(
    model, min_value=none, max_value=none, row_condition=none
) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error(
            "expect_table_row_count_to_be_between on " ~ model ~ ": give min_value, max_value or both"
        ) }}
    {%- endif -%}

    with row_count as (
        select count(*) as n_rows
        from {{ model }}
        {%- if row_condition %}
        where {{ row_condition }}
        {%- endif %}
    )

    select n_rows
    from row_count
    where
        false
        {%- if min_value is not none %}
        or n_rows < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or n_rows > {{ max_value }}
        {%- endif %}
{% endtest %}
