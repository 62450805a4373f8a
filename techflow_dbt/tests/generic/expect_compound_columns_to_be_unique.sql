{#
    The combination of column_list is unique across the model: the grain of a fact stated as a
    test. Nulls count as values (two rows with the same nulls are duplicates), which is the
    strict reading a grain needs. Fails with each duplicated combination and its count.
#}
{% test expect_compound_columns_to_be_unique(model, column_list, row_condition=none) %}
    {%- if column_list is string or column_list | length < 2 -%}
        {{ exceptions.raise_compiler_error(
            "expect_compound_columns_to_be_unique on " ~ model
            ~ ": column_list must name at least two columns (use `unique` for one)"
        ) }}
    {%- endif -%}

    select
        {%- for column in column_list %}
        {{ column }},
        {%- endfor %}
        count(*) as n_rows
    from {{ model }}
    {%- if row_condition %}
    where {{ row_condition }}
    {%- endif %}
    group by {% for column in column_list %}{{ column }}{{ ", " if not loop.last }}{% endfor %}
    having count(*) > 1
{% endtest %}
