{#
    Each raw partition in the build's window holds a plausible number of rows, judged against the
    source's own recent days: its baseline is the median row count of the same weekday in the 4
    weeks before (weekday, because usage and site traffic fall by three quarters at weekends).
    Row counts come from the files' Parquet footers (no data is read).

      - error (stops the build): fewer rows than `error_below` x baseline — an empty or truncated
        extract on a day the feed is busy (usage for thousands of users on a weekday is an outage,
        not a quiet day);
      - warn: fewer than `warn_below` x baseline, or more than `warn_above` x baseline (a partial
        day, or a re-sync that dumped history into one partition).
    A day is judged only when all 4 earlier weekdays landed and their median is at least
    `min_baseline_rows`: below that, a change feed's counts are noise (a quiet Salesforce day
    lands nothing). Missing partitions are expect_partitions_landed_through_as_of's business.

    The window: the days the build brings in — Dagster's partition window when a run has one
    (TECHFLOW_MRR_MIN_DATE, read while executing; a re-landed partition's repair run judges that
    day), else the last `detection_days` days through the as-of day. Thresholds are per source,
    beside each test in the staging YAML, with the ranges measured on the default world.

    Usage (on a staging model):
        - expect_partition_volume_within_baseline:
            arguments:
              source_relation: source('app_db', 'usage_events')
              error_below: 0.25
              warn_below: 0.5
              warn_above: 8
              min_baseline_rows: 50
#}
{% test expect_partition_volume_within_baseline(
    model, source_relation, error_below, warn_below, warn_above, min_baseline_rows=20,
    detection_days=7
) %}
    {{ config(fail_calc=guard_fail_calc(), warn_if="!= 0", error_if=">= 1000000") }}
    {%- set feed = raw_feed(source_relation) -%}
    {%- set last_day = as_of_date() if execute else world_start_default() -%}
    {%- set window_min = mrr_window_bound('min_date') if execute else none -%}
    {%- set first_day = modules.datetime.date.fromisoformat(window_min | string) if window_min
        else last_day - modules.datetime.timedelta(days=(detection_days | int) - 1) -%}
    {%- set first_day = [first_day, last_day] | min -%}
    {%- set baseline_from = first_day - modules.datetime.timedelta(days=28) -%}
    {%- set percent = {
        'error_below': (error_below * 100) | round | int,
        'warn_below': (warn_below * 100) | round | int,
        'warn_above': warn_above,
    } -%}

    with

    files as (
        {{ raw_landed_files(feed) }}
    ),

    daily as (
        select
            partition_day,
            sum(num_rows) as n_rows
        from files
        where partition_day between cast('{{ baseline_from }}' as date) and cast('{{ last_day }}' as date)
        group by partition_day
    ),

    baselines as (
        select
            judged.partition_day,
            judged.n_rows,
            count(*) as n_weeks,
            {{ median_of('earlier.n_rows') }} as baseline
        from daily as judged
        inner join daily as earlier
            on earlier.partition_day in (
                {{ add_days(-7, 'judged.partition_day') }},
                {{ add_days(-14, 'judged.partition_day') }},
                {{ add_days(-21, 'judged.partition_day') }},
                {{ add_days(-28, 'judged.partition_day') }}
            )
        where judged.partition_day >= cast('{{ first_day }}' as date)
        group by judged.partition_day, judged.n_rows
    ),

    judged as (
        select
            partition_day,
            n_rows,
            baseline,
            case
                when n_rows < {{ error_below }} * baseline then 'error'
                when n_rows < {{ warn_below }} * baseline or n_rows > {{ warn_above }} * baseline
                    then 'warn'
            end as guard_level
        from baselines
        where n_weeks = 4 and baseline >= {{ min_baseline_rows }}
    ),

    problems as (
        select
            guard_level,
            'date=' || cast(partition_day as {{ dbt.type_string() }}) || ': '
            || cast(n_rows as {{ dbt.type_string() }}) || ' rows, the same weekday of the 4 weeks '
            || 'before had a median of '
            || cast(cast(baseline as decimal(18, 1)) as {{ dbt.type_string() }})
            || case guard_level
                when 'error' then ' (below {{ percent.error_below }} % of it is an outage)'
                else ' (expected {{ percent.warn_below }} % to {{ percent.warn_above }}x of it)'
            end as problem
        from judged
        where guard_level is not null
    ),

    {{ guard_failures(raw_feed_label(feed) ~ ': partitions far below their usual volume') }}
{% endtest %}
