{#
    The newest value of a date/timestamp column is no older than `interval` `datepart`s before
    now (UTC). Catches a pipeline that "succeeds" without new data. Empty models fail too.

    Usage:  - expect_recent_data:
                arguments: {datepart: day, interval: 2}
#}
{% test expect_recent_data(model, column_name, datepart='day', interval=1, row_condition=none) %}
    {%- set threshold = dbt.dateadd(datepart, -1 * (interval | int), utc_now()) -%}

    with newest as (
        select max({{ column_name }}) as newest_value
        from {{ model }}
        {%- if row_condition %}
        where {{ row_condition }}
        {%- endif %}
    )

    select newest_value
    from newest
    where newest_value is null
        or cast(newest_value as {{ dbt.type_timestamp() }}) < {{ threshold }}
{% endtest %}
