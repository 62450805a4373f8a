-- A won deal is a purchase app_db knows (data_generation/simulation/sales_pipeline.py,
-- METRICS.md "Sales"):
-- - won new business: the account's user has a paid period (at least one day of MRR: the MRR date
--   rule, METRICS.md) of at least 25 seats whose paid start is the close day, and the deal's
--   amount is that period's ARR;
-- - won expansion: a period opened by a seat increase or an upgrade on the close day, and the
--   amount is its ARR increase over the period it replaced.
-- Deals closed in the last 60 days are left out: app_db changes may land up to 45 days late and
-- a mistyped seat count is corrected within two weeks (data_generation/README.md, "Late and
-- corrected subscriptions").
with

deals as (

    select * from {{ ref('fct_opportunities') }}
    where
        is_won
        and close_date < {{ add_days(-60, as_of_day()) }}

),

periods as (

    -- ARR straight from the catalog price (exact cents), as Salesforce books it.
    select
        *,
        cast(price_per_period * seats * 12 / billing_months as decimal(18, 2)) as contract_arr
    from {{ ref('dim_subscriptions') }}

),

growth as (

    select
        periods.customer_id,
        cast(periods.started_at as date) as started_date,
        periods.contract_arr - previous.contract_arr as arr_increase
    from periods
    inner join periods as previous
        on periods.previous_subscription_id = previous.subscription_id
    where periods.contract_arr > previous.contract_arr

),

new_business_without_purchase as (

    select
        'won new business without a matching purchase' as problem,
        deals.opportunity_id,
        deals.user_id,
        deals.close_date,
        deals.amount_usd
    from deals
    where
        deals.opportunity_type = 'New Business'
        and not exists (
            select 1 from periods
            where
                periods.customer_id = deals.user_id
                and periods.seats >= 25
                and periods.paid_start_date = deals.close_date
                and (periods.ended_date is null or periods.ended_date > periods.paid_start_date)
                and periods.contract_arr = deals.amount_usd
        )

),

expansion_without_growth as (

    select
        'won expansion without a matching seat growth or upgrade' as problem,
        deals.opportunity_id,
        deals.user_id,
        deals.close_date,
        deals.amount_usd
    from deals
    where
        deals.opportunity_type = 'Expansion'
        and not exists (
            select 1 from growth
            where
                growth.customer_id = deals.user_id
                and growth.started_date = deals.close_date
                and growth.arr_increase = deals.amount_usd
        )

)

select * from new_business_without_purchase
union all
select * from expansion_without_growth
