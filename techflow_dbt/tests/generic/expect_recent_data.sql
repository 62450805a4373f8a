{#
    The newest value of a date/timestamp column is no older than `interval` `datepart`s before
    the end of the as-of day (TECHFLOW_AS_OF). Catches a pipeline that "succeeds" without new data. Empty models fail too.

    as_of_var names a dbt var holding an ISO date (e.g. max_date): when it is set, "now" is the
    end of that day instead, so building an old window (a Dagster backfill of one partition)
    checks that the window itself was filled, not that it is today.

    Usage:  - expect_recent_data:
                arguments: {datepart: day, interval: 2, as_of_var: max_date}
#}
{% test expect_recent_data(
    model, column_name, datepart='day', interval=1, row_condition=none, as_of_var=none
) %}
    {%- if as_of_var and var(as_of_var, none) -%}
        {%- set now = dbt.dateadd('day', 1, "cast('" ~ var(as_of_var) ~ "' as " ~ dbt.type_timestamp() ~ ")") -%}
    {%- else -%}
        {%- set now = as_of_end() -%}
    {%- endif -%}
    {%- set threshold = dbt.dateadd(datepart, -1 * (interval | int), now) -%}

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
