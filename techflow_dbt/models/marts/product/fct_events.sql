-- Grain: one row per product usage event (event_id) of a real user.
-- The atomic fact of product analytics, enriched with the feature catalog (display name, the
-- lowest tier that unlocks it, whether it is a core feature).
--
-- Incremental by event day (macros/incremental_window.sql): a daily build recomputes the events of
-- the requested partition and every day after the newest built, `lookback` days back, because a
-- usage event lands up to a day late (in the next day's partition); rows of that window are
-- deleted first (pre-hook), so a re-landed partition that withdrew an event leaves no stale row.
-- An event belongs to one event day, and every copy of it lands on or after that day, so the
-- window's rows are exactly what a full refresh computes for those days.
-- Membership and user_key come from the current dim_users: when a user's no longer match (the user
-- became a test account), the pre-hook also deletes all of that user's rows, and the build reads
-- every day of each real user with no row left before the window (just deleted, or never built: a
-- test account that became real), so older days are restated as a full refresh would.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        lookback=2,
        meta={'window_column': 'event_date', 'user_attributes': {'user_key': 'users.user_key'}},
        pre_hook="{{ incremental_window_clear('event_date') }}",
    )
}}

with

usage_events as (

    select * from {{ ref('stg_app_db__usage_events') }}
    where {{ incremental_window_filter('event_date') }}

),

product_features as (

    select * from {{ ref('product_features') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

final as (

    select
        {{ generate_surrogate_key(['usage_events.event_id']) }} as event_key,
        usage_events.event_id,
        users.user_key,
        usage_events.user_id,
        usage_events.product,
        usage_events.feature,
        product_features.feature_name,
        product_features.min_tier as feature_min_tier,
        product_features.is_core as is_core_feature,
        usage_events.occurred_at,
        cast(usage_events.occurred_at as date) as event_date

    from usage_events
    -- Inner join: events of test accounts (absent from dim_users) are not product usage.
    inner join users
        on usage_events.user_id = users.user_id
    left join product_features
        on
            usage_events.product = product_features.product
            and usage_events.feature = product_features.feature

)

select * from final
