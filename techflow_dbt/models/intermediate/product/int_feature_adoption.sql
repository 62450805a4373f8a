-- One row per user, product and feature the user has ever used: when they first and last used
-- it and how often. A feature the user never touched has no row (rpt_feature_adoption starts from
-- the feature catalog so unused features still show up with zero adopters).
with

usage_events as (

    select * from {{ ref('stg_app_db__usage_events') }}

),

final as (

    select
        user_id,
        product,
        feature,
        min(occurred_at) as first_used_at,
        max(occurred_at) as last_used_at,
        count(*) as event_count,
        count(distinct cast(occurred_at as date)) as active_days

    from usage_events
    group by user_id, product, feature

)

select * from final
