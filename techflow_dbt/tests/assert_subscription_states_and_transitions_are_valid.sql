-- Subscription periods obey the lifecycle (see data_generation/simulation/lifecycle.py):
--   1. a period is canceled exactly when it has ended, and has an ended_reason exactly then;
--   2. only a period that opened with a trial can be trialing;
--   3. a replacement period (previous_subscription_id set) continues its predecessor: same
--      customer and product, starts the instant it ended, has no trial, and the predecessor
--      ended for a plan or seat change;
--   4. the change matches its reason: upgrade raises the tier, downgrade lowers it, seat_change
--      keeps the plan and changes the seats;
--   5. a period ended for a plan or seat change has exactly one successor.
-- Returns one row per violation, naming the period and the rule it breaks.
with

periods as (

    select
        subscriptions.*,
        plan_catalog.product,
        case plan_catalog.tier when 'starter' then 1 when 'pro' then 2 when 'enterprise' then 3 end
            as tier_rank
    from {{ ref('stg_app_db__subscriptions') }} as subscriptions
    left join {{ ref('plan_catalog') }} as plan_catalog
        on subscriptions.plan_id = plan_catalog.plan_id

),

successors as (

    select
        previous_subscription_id as subscription_id,
        count(*) as n_successors
    from periods
    where previous_subscription_id is not null
    group by previous_subscription_id

),

state_violations as (

    select
        subscription_id,
        'canceled status must match ended_at' as violation
    from periods
    where (status = 'canceled') != (ended_at is not null)

    union all

    select
        subscription_id,
        'ended_reason must be set exactly when ended_at is' as violation
    from periods
    where (ended_reason is not null) != (ended_at is not null)

    union all

    select
        subscription_id,
        'trialing without a trial' as violation
    from periods
    where status = 'trialing' and trial_ends_at is null

),

transition_violations as (

    select
        current_period.subscription_id,
        case
            when previous_period.subscription_id is null then 'previous period does not exist'
            when previous_period.customer_id != current_period.customer_id
                then 'previous period belongs to another customer'
            when previous_period.product != current_period.product
                then 'previous period is another product'
            when
                previous_period.ended_at is null
                or previous_period.ended_at != current_period.started_at
                then 'replacement does not start when the previous period ended'
            when current_period.trial_ends_at is not null then 'replacement period has a trial'
            when previous_period.ended_reason not in ('upgrade', 'downgrade', 'seat_change')
                then 'previous period did not end for a plan or seat change'
            when
                previous_period.ended_reason = 'upgrade'
                and current_period.tier_rank <= previous_period.tier_rank
                then 'upgrade did not raise the tier'
            when
                previous_period.ended_reason = 'downgrade'
                and current_period.tier_rank >= previous_period.tier_rank
                then 'downgrade did not lower the tier'
            when
                previous_period.ended_reason = 'seat_change'
                and (
                    current_period.plan_id != previous_period.plan_id
                    or current_period.quantity = previous_period.quantity
                )
                then 'seat_change changed the plan or kept the seats'
        end as violation
    from periods as current_period
    left join periods as previous_period
        on current_period.previous_subscription_id = previous_period.subscription_id
    where current_period.previous_subscription_id is not null

),

orphaned_changes as (

    select
        periods.subscription_id,
        'ended for a plan or seat change without exactly one successor' as violation
    from periods
    left join successors on periods.subscription_id = successors.subscription_id
    where
        periods.ended_reason in ('upgrade', 'downgrade', 'seat_change')
        and coalesce(successors.n_successors, 0) != 1

)

select * from state_violations
union all
select * from transition_violations
where violation is not null
union all
select * from orphaned_changes
