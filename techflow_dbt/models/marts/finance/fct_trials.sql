-- Free trials and how they ended (METRICS.md, "Trial-to-paid conversion"). Grain: one row per
-- subscription period that opened with a trial (a trial is always a customer's first period of a
-- product: plan and seat changes open periods without one), started by the as-of day.
-- outcome, by the MRR date rule and the platform clock (the as-of day):
--   converted  the period started paying (its paid start, the trial's end, is on or before the
--              as-of day) and paid at least one day (it did not end on its paid start);
--   canceled   it ended on or before its paid start, by the as-of day: it never paid (a trial
--              converted and cancelled the same day included);
--   in_trial   neither yet: the trial runs past the as-of day.
-- Conversion is cohort-based: a trial belongs to the day it started, so a start cohort's
-- conversion rate (converted / decided) can never exceed 1. Read from dim_subscriptions, the
-- periods' mart, so a trial's MRR is the one the period has there (computed once).
with

periods as (

    select * from {{ ref('dim_subscriptions') }}

),

trials as (

    select
        *,
        case
            when
                paid_start_date <= {{ as_of_day() }}
                and (ended_date is null or ended_date > paid_start_date)
                then 'converted'
            when ended_date <= paid_start_date and ended_date <= {{ as_of_day() }}
                then 'canceled'
            when
                paid_start_date > {{ as_of_day() }}
                and (ended_date is null or ended_date > {{ as_of_day() }})
                then 'in_trial'
        -- No else: the three cover every trial, so an unclassified one is null and fails the
        -- not_null test instead of hiding as in_trial.
        end as outcome
    from periods
    where had_trial and started_at < {{ as_of_end() }}

),

final as (

    select
        subscription_id,
        customer_id,
        product,
        plan_id,
        started_at as trial_started_at,
        cast(started_at as date) as trial_start_date,
        trial_ends_at,
        cast(trial_ends_at as date) as trial_end_date,
        outcome,
        case when outcome = 'converted' then paid_start_date end as converted_date,
        case when outcome = 'canceled' then ended_date end as canceled_date,
        outcome != 'in_trial' as is_decided,
        outcome = 'converted' as is_converted,
        mrr as period_mrr

    from trials

)

select * from final
