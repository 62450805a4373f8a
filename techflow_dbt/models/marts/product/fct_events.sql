-- Grain: one row per product usage event (event_id) of a real user.
-- The atomic fact of product analytics, enriched with the feature catalog (display name, the
-- lowest tier that unlocks it, whether it is a core feature).
with

usage_events as (

    select * from {{ ref('stg_app_db__usage_events') }}

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
