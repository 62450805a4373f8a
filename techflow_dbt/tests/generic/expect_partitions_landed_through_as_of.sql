{#
    A daily-partitioned raw source has every partition a build reads: each day from the world's
    first day (TECHFLOW_WORLD_START) through the as-of day (TECHFLOW_AS_OF) has its
    `date=YYYY-MM-DD` file, even an empty one. That is what "the feed is complete and recent"
    means for data that can be quiet: a Sunday with no usage lands an empty partition, while a
    stopped feed lands none, and a day lost in the middle of history (a failed sync never re-run)
    leaves a hole every full build would silently read past. Reads the directory listing only.

    Errors name the source table, its folder and every missing day, and stop the build
    (guard_failures). On the staging model that reads the source (Dagster runs a model's tests as
    its asset checks, not a source's), so `dbt build` skips everything downstream, on every path
    (make run, Dagster, plain dbt).

    Usage (on a staging model):  - expect_partitions_landed_through_as_of:
                                     arguments: {source_relation: source('app_db', 'usage_events')}
#}
{% test expect_partitions_landed_through_as_of(model, source_relation) %}
    {{ config(fail_calc=guard_fail_calc(), warn_if="!= 0", error_if=">= 1000000") }}
    {%- set feed = raw_feed(source_relation) -%}
    {#- Dates only while executing: env vars read at parse time would tie the parse to them. -#}
    {%- set first_day = world_start_date() if execute else world_start_default() -%}
    {%- set last_day = as_of_date() if execute else first_day -%}

    with

    expected as (
        {{ date_spine_days("cast('" ~ first_day ~ "' as date)", "cast('" ~ last_day ~ "' as date)") }}
    ),

    landed as (
        {{ raw_landed_days(feed) }}
    ),

    problems as (
        select
            'error' as guard_level,
            'date=' || cast(expected.date_day as {{ dbt.type_string() }}) as problem
        from expected
        left join landed on expected.date_day = landed.partition_day
        where landed.partition_day is null
    ),

    {{ guard_failures(
        raw_feed_label(feed) ~ ': daily partitions never landed (every day from the world start '
        ~ first_day ~ ' through the as-of day ' ~ last_day ~ ' needs one, even empty)'
    ) }}
{% endtest %}
