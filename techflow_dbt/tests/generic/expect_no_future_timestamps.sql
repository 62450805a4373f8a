{#
    No value of a date/timestamp column lies after the end of the as-of day (TECHFLOW_AS_OF) plus
    `tolerance_hours` (default 24: a build shortly after midnight may already see the next day's
    first rows). A value beyond that is a broken clock or a corrupt extract, and it would build
    into the marts as if it had happened. Fails with one row per offending value, naming the
    model and column, so `dbt build` stops everything downstream of the staging model.

    Usage:  - expect_no_future_timestamps          (tolerance 24 h)
            - expect_no_future_timestamps:
                arguments: {tolerance_hours: 48}
#}
{% test expect_no_future_timestamps(model, column_name, tolerance_hours=24) %}
    {%- set model_name = model.identifier if model.identifier is defined else model | string -%}
    select
        '{{ model_name }}' as model_name,
        '{{ column_name }}' as column_name,
        {{ column_name }} as future_value
    from {{ model }}
    where cast({{ column_name }} as {{ dbt.type_timestamp() }})
        > {{ dbt.dateadd('hour', tolerance_hours | int, as_of_end()) }}
{% endtest %}
