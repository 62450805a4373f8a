-- Subscription lifecycle as events: one row per thing that happened to a period.
--   trial_started    a period opened with a free trial
--   trial_converted  the trial ended and the period started paying
--   trial_canceled   the period ended before its trial did (never paid)
--   subscribed       a paid period opened without a trial and without a predecessor
--   reactivated      the same, for a customer who had a period of the product before
--   upgrade / downgrade / seat_change   the period was replaced by the next one
--   churn / dunning / refund  the period ended for good (canceled, unpaid after retries, or
--                    a billing cycle refunded in full)
-- Events dated in the future (a trial that ends tomorrow) have not happened yet and are left out.
-- The MRR date rule decides paid vs not (models/METRICS.md): a period pays on day D when
-- paid_start_date <= D < ended_date, so a trial converted and cancelled on one day never paid,
-- gets trial_canceled (not trial_converted), and a later period of the product is 'subscribed'.
-- 'reactivated' means the customer had an earlier PAID period of the product, as the
-- 'reactivation' movement of fct_mrr_daily does
-- (tested: assert_reactivated_events_are_reactivations).
with

periods_with_pay as (

    select
        *,
        ended_date is null or ended_date > paid_start_date as ever_paid
    from {{ ref('int_subscription_periods') }}

),

periods as (

    select
        *,
        coalesce(max(case when ever_paid then 1 else 0 end) over (
            partition by customer_id, product
            order by started_at, subscription_id
            rows between unbounded preceding and 1 preceding
        ), 0) = 1 as had_earlier_paid_period
    from periods_with_pay

),

events as (

    select
        subscription_id,
        'trial_started' as event_type,
        started_at as event_at
    from periods
    where had_trial

    union all

    select
        subscription_id,
        'trial_converted' as event_type,
        trial_ends_at as event_at
    from periods
    where had_trial and ever_paid

    union all

    select
        subscription_id,
        'trial_canceled' as event_type,
        ended_at as event_at
    from periods
    where had_trial and not ever_paid

    union all

    select
        subscription_id,
        case when had_earlier_paid_period then 'reactivated' else 'subscribed' end as event_type,
        started_at as event_at
    from periods
    where not had_trial and previous_subscription_id is null

    union all

    select
        subscription_id,
        coalesce(ended_reason, 'churn') as event_type,
        ended_at as event_at
    from periods
    where ended_at is not null and not (had_trial and not ever_paid)

),

final as (

    select
        {{ generate_surrogate_key(['events.subscription_id', 'events.event_type']) }}
            as subscription_event_id,
        events.subscription_id,
        periods.customer_id,
        periods.product,
        periods.plan_id,
        events.event_type,
        events.event_at,
        cast(events.event_at as date) as event_date,
        {{ period_mrr(
            'periods.price_per_period_cents', 'periods.billing_months', 'periods.quantity'
        ) }} as period_mrr,
        periods.quantity as seats

    from events
    inner join periods on events.subscription_id = periods.subscription_id
    -- Events up to the end of the as-of day (the platform clock), none scheduled after it.
    where events.event_at < {{ as_of_end() }}

)

select * from final
