-- Subscription lifecycle events. Grain: one row per subscription period x event type (a period
-- has each kind of event at most once). Event types and their meaning: int_subscription_events.
with

events as (

    select * from {{ ref('int_subscription_events') }}

),

final as (

    select
        subscription_event_id,
        subscription_id,
        customer_id,
        product,
        plan_id,
        event_type,
        event_at,
        event_date,
        period_mrr,
        seats,
        event_type in ('trial_converted', 'subscribed', 'reactivated') as is_paid_start,
        -- refund: the customer got the cycle back in full and the period ended for good.
        event_type in ('churn', 'dunning', 'refund') as is_churn

    from events

)

select * from final
