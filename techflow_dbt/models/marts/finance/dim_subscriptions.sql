-- Subscription periods. Grain: one row per subscription period (a plan or seat change closes a
-- period and opens the next, linked by previous_subscription_id). MRR is what the period adds
-- to fct_mrr_daily while paid: plan price per billing period / billing months x seats.
with

periods as (

    select
        *,
        {{ period_mrr('price_per_period_cents', 'billing_months', 'quantity') }} as mrr
    from {{ ref('int_subscription_periods') }}

),

final as (

    select
        subscription_id,
        customer_id,
        previous_subscription_id,
        plan_id,
        product,
        tier,
        billing_period,
        billing_months,
        quantity as seats,
        {{ cents_to_dollars('price_per_period_cents') }} as price_per_period,
        mrr,
        cast(12 * mrr as decimal(18, 2)) as arr,
        status,
        had_trial,
        trial_ends_at,
        started_at,
        paid_start_at,
        ended_at,
        ended_reason,
        paid_start_date,
        ended_date,
        -- Counts toward MRR on the as-of day, by the fct_mrr_daily rule on UTC dates: paid start
        -- on or before it, not ended by it.
        paid_start_date <= {{ as_of_day() }}
        and (ended_date is null or ended_date > {{ as_of_day() }}) as is_currently_paying,
        created_at,
        updated_at

    from periods

)

select * from final
