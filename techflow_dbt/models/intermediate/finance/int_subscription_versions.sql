-- Every landed version of every subscription period, kept in the warehouse. Grain: one row per
-- landed raw row (identical re-landed copies included; they agree, and readers take the newest).
--
-- Why a table and not the staging view: late and corrected data (data_generation/README.md,
-- "Late and corrected subscriptions") can change a period's MRR weeks before the day its row
-- lands. To know what a late row changes, fct_mrr_daily
-- compares it with the version it replaces, which may have landed years earlier; reading that
-- from here keeps a one-day build off the raw history (its cost stays flat as history grows).
--
-- Incremental: each build re-reads the raw partitions landed on or after reload_from — the
-- newest day already here (it may have been re-landed) or var min_date when a Dagster partition
-- is rebuilt, whichever is earlier — replacing their rows (pre-hook delete and insert, one
-- transaction). A corrected raw partition is picked up by rebuilding its partition.
--
-- Only partitions landed on or before the as-of day are kept: a partition dated later (a clock
-- or a folder gone wrong) has not landed by the platform's clock, and keeping it would make its
-- day the newest one here, so later builds would re-read only from that day on and skip every
-- partition before it (subscription_versions_reload_from is capped at the as-of day too).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ subscription_versions_clear_reload() }}",
    )
}}
{%- set reload_from = subscription_versions_reload_from() %}

with

versions as (

    select * from {{ ref('stg_app_db__subscription_versions') }}
    -- Filters directly on the Parquet scan (the staging view has no window function), so DuckDB
    -- prunes every hive partition outside them.
    where landed_date <= {{ as_of_day() }}
    {%- if is_incremental() and reload_from %}
        and landed_date >= cast('{{ reload_from }}' as date)
    {%- endif %}

),

final as (

    select
        {{ subscription_version_columns() }}
    from versions
    -- Stored in landing order, so filters on landed_date skip old row groups by their zonemaps.
    order by landed_date, subscription_id, updated_at

)

select * from final
