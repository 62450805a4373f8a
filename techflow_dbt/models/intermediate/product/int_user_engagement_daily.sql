-- One row per user and UTC day with at least one product usage event: how much, and how broadly,
-- the user used the products that day. Days without usage have no row; marts that need a dense
-- calendar (rolling windows, churn features) handle the gaps explicitly.
with

usage_events as (

    select * from {{ ref('stg_app_db__usage_events') }}

),

account_members as (

    select * from {{ ref('int_account_members') }}

),

final as (

    select
        usage_events.user_id,
        -- The account the person's usage counts for (null for QA accounts, dropped downstream).
        account_members.customer_id,
        cast(usage_events.occurred_at as date) as activity_date,
        count(*) as event_count,
        count(distinct usage_events.product || '.' || usage_events.feature) as features_used,
        count(distinct usage_events.product) as products_used,
        count(case when usage_events.product = 'cloudsync' then 1 end) as cloudsync_event_count,
        count(case when usage_events.product = 'teamchat' then 1 end) as teamchat_event_count,
        count(case when usage_events.product = 'datahub' then 1 end) as datahub_event_count,
        min(usage_events.occurred_at) as first_event_at,
        max(usage_events.occurred_at) as last_event_at

    from usage_events
    left join account_members
        on usage_events.user_id = account_members.user_id
    group by
        usage_events.user_id,
        account_members.customer_id,
        cast(usage_events.occurred_at as date)

)

select * from final
