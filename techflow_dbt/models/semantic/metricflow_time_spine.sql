-- MetricFlow's time spine. Grain: one row per UTC day from the world's first day
-- (TECHFLOW_WORLD_START) through the as-of day (TECHFLOW_AS_OF): the calendar MetricFlow joins
-- metrics to for offsets (NRR's "MRR a month earlier") and trailing windows (WAU, MAU).
{{ config(materialized='table', schema='semantic') }}

with

days as (

    {{ date_spine_days(
        "cast('" ~ world_start_date() ~ "' as date)",
        as_of_day(),
    ) }}

),

final as (

    select date_day
    from days

)

select * from final
