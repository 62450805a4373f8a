-- One row per user and UTC day with at least one product usage event: how much, and how broadly,
-- the user used the products that day. Days without usage have no row; marts that need a dense
-- calendar (rolling windows, churn features) handle the gaps explicitly.
with

usage_events as (

    select * from {{ ref('stg_app_db__usage_events') }}

),

final as (

    select
        user_id,
        cast(occurred_at as date) as activity_date,
        count(*) as event_count,
        count(distinct product || '.' || feature) as features_used,
        count(distinct product) as products_used,
        count(case when product = 'cloudsync' then 1 end) as cloudsync_event_count,
        count(case when product = 'teamchat' then 1 end) as teamchat_event_count,
        count(case when product = 'datahub' then 1 end) as datahub_event_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at

    from usage_events
    group by user_id, cast(occurred_at as date)

)

select * from final
