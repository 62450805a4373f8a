{#
    A day-grain fact's "previous" column (e.g. previous_mrr) equals its value column (mrr) on the
    same key's row of the day before, or 0 when there is no such row. Not a restatement of the
    model's arithmetic: the model carries the previous value forward through windows, incremental
    base states and gap handling; this reads the two rows back and compares them, so a lost or
    duplicated day, a wrong base state after an incremental window or a gap shows up. Fails with
    every row whose previous value disagrees.

    Usage:  - expect_previous_value_is_the_prior_days:
                arguments: {value_column: mrr, key_columns: [customer_id, product]}
            (on the column holding the previous value, e.g. previous_mrr)
#}
{% test expect_previous_value_is_the_prior_days(
    model, column_name, value_column, key_columns, date_column='date_day'
) %}
    select
        today.{{ date_column }},
        {%- for key in key_columns %}
        today.{{ key }},
        {%- endfor %}
        today.{{ column_name }} as stated_previous,
        coalesce(prior.{{ value_column }}, 0) as prior_days_value
    from {{ model }} as today
    left join {{ model }} as prior
        on
            {%- for key in key_columns %}
            today.{{ key }} = prior.{{ key }} and
            {%- endfor %}
            prior.{{ date_column }} = {{ add_days(-1, 'today.' ~ date_column) }}
    where today.{{ column_name }} != coalesce(prior.{{ value_column }}, 0)
{% endtest %}
