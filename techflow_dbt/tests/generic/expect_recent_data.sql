{#
    The newest value of a date/timestamp column is no older than `interval` `datepart`s before
    the end of the as-of day (TECHFLOW_AS_OF). Catches a pipeline that "succeeds" without new data. Empty models fail too.

    as_of_var names a bound of the MRR build window (max_date): when the build was given one —
    as the dbt var, or as TECHFLOW_MRR_MAX_DATE, the way Dagster passes a partition
    (mrr_window_bound reads both) — "now" is the end of that day instead, so building an old
    window (a Dagster backfill of one partition) checks that the window itself was filled, not
    that it is today.

    Usage:  - expect_recent_data:
                arguments: {datepart: day, interval: 2, as_of_var: max_date}
#}
{% test expect_recent_data(
    model, column_name, datepart='day', interval=1, row_condition=none, as_of_var=none
) %}
    {%- set window_end = mrr_window_bound(as_of_var) if as_of_var else none -%}
    {%- if window_end -%}
        {%- set now = dbt.dateadd('day', 1, "cast('" ~ window_end ~ "' as " ~ dbt.type_timestamp() ~ ")") -%}
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
