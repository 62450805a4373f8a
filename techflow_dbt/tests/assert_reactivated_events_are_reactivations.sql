-- The 'reactivated' event and the 'reactivation' movement mean the same thing (METRICS.md,
-- "Reactivation"): a customer's product pays again after an earlier paid period ended.
-- Every reactivated event whose period paid (date rule) has a reactivation movement in
-- fct_mrr_daily on its day, and every reactivation movement has a reactivated event or a
-- returning trial's conversion that day. Checked over the days fct_mrr_daily holds.
with

events as (

    select * from {{ ref('fct_subscription_events') }}

),

movements as (

    select * from {{ ref('fct_mrr_daily') }}

),

built_days as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from movements

),

reactivated_without_movement as (

    select
        'reactivated event without reactivation movement' as problem,
        events.customer_id,
        events.product,
        events.event_date
    from events
    cross join built_days
    inner join {{ ref('dim_subscriptions') }} as periods
        on events.subscription_id = periods.subscription_id
    where
        events.event_type = 'reactivated'
        and events.event_date between built_days.first_day and built_days.last_day
        and (periods.ended_date is null or periods.ended_date > periods.paid_start_date)
        and not exists (
            select 1 from movements
            where
                movements.customer_id = events.customer_id
                and movements.product = events.product
                and movements.date_day = events.event_date
                and movements.movement = 'reactivation'
        )

),

movement_without_event as (

    select
        'reactivation movement without reactivated or trial_converted event' as problem,
        movements.customer_id,
        movements.product,
        movements.date_day as event_date
    from movements
    where
        movements.movement = 'reactivation'
        and not exists (
            select 1 from events
            where
                events.customer_id = movements.customer_id
                and events.product = movements.product
                and events.event_date = movements.date_day
                and events.event_type in ('reactivated', 'trial_converted')
        )

)

select * from reactivated_without_movement
union all
select * from movement_without_event
