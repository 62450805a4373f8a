{#
    A business rule as a boolean SQL expression over each row: fails with every row where it is
    false (rows where it is null pass only when the expression itself handles nulls; write
    `coalesce(...)` or `is null or ...` to say which way nulls go). row_condition narrows the rows.

    Usage:  - expect_expression_is_true:
                arguments: {expression: "arr = 12 * mrr"}
#}
{% test expect_expression_is_true(model, expression, row_condition=none) %}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
        {%- if row_condition %}
        and ({{ row_condition }})
        {%- endif %}
{% endtest %}
