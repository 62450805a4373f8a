{#
    The platform's calendar months, as a select: one row per calendar month from the world's
    first (TECHFLOW_WORLD_START) through the as-of month (TECHFLOW_AS_OF), with
      calendar_month      the month's first day;
      start_date          the previous month's last day (a month-start balance, e.g. MRR "at the
                          start of the month", is taken at the end of that day);
      end_date            the month's last day, or the as-of day while the month is not over;
      is_complete_month   whether the month has ended by the as-of day: metrics show complete
                          months only (METRICS.md, "Complete months").
    One calendar for every monthly mart (retention, cohorts, feature adoption); month_column
    names the month's column.
#}
{% macro calendar_months(month_column='calendar_month') -%}
    select
        calendar_month as {{ month_column }},
        {{ add_days(-1, 'calendar_month') }} as start_date,
        case
            when last_day_of_month <= {{ as_of_day() }} then last_day_of_month
            else {{ as_of_day() }}
        end as end_date,
        last_day_of_month <= {{ as_of_day() }} as is_complete_month
    from (
        select
            calendar_month,
            cast({{ dbt.last_day('calendar_month', 'month') }} as date) as last_day_of_month
        from (
            select distinct
                cast({{ dbt.date_trunc('month', 'date_day') }} as date) as calendar_month
            from (
                {{ date_spine_days(
                    "cast('" ~ world_start_date() ~ "' as date)",
                    as_of_day(),
                ) }}
            ) as days
        ) as months
    ) as month_ends
{%- endmacro %}
