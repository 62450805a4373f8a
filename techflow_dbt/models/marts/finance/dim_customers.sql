-- Customers. Grain: one row per app user who ever had a subscription period (trials included);
-- customer_id is the app user_id, the key every finance fact uses. Internal QA accounts are
-- excluded upstream. Current figures are as of the newest day in fct_mrr_daily.
with

users as (

    select * from {{ ref('stg_app_db__users') }}

),

stripe_customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

periods as (

    select * from {{ ref('int_subscription_periods') }}

),

mrr_daily as (

    select * from {{ ref('fct_mrr_daily') }}

),

revenue as (

    select * from {{ ref('fct_revenue') }}

),

subscription_history as (

    select
        customer_id,
        min(started_at) as first_subscription_at,
        -- The MRR date rule (models/METRICS.md): a period paid if it had a day with MRR.
        min(case
            when ended_date is null or ended_date > paid_start_date then paid_start_at
        end) as first_paid_at,
        count(*) as subscription_periods,
        count(distinct product) as products_ever

    from periods
    group by customer_id

),

newest_day as (

    select max(date_day) as date_day
    from mrr_daily

),

current_mrr as (

    select
        mrr_daily.customer_id,
        sum(mrr_daily.mrr) as current_mrr,
        sum(case when mrr_daily.mrr > 0 then 1 else 0 end) as current_products

    from mrr_daily
    inner join newest_day on mrr_daily.date_day = newest_day.date_day
    group by mrr_daily.customer_id

),

lifetime_revenue as (

    select
        customer_id,
        sum(net_collected) as lifetime_net_revenue

    from revenue
    group by customer_id

),

-- One Stripe customer per app user; should Stripe hold two, the newest is the billing one.
billing_account_candidates as (

    select
        customer_id,
        stripe_customer_id,
        row_number() over (
            partition by customer_id order by created_at desc nulls last
        ) as newest_first
    from stripe_customers
    where customer_id is not null

),

billing_account as (

    select
        customer_id,
        stripe_customer_id
    from billing_account_candidates
    where newest_first = 1

),

final as (

    select
        users.user_id as customer_id,
        billing_account.stripe_customer_id,
        users.email,
        users.full_name,
        users.company_name,
        users.company_domain,
        users.country_code,
        users.signup_at,
        subscription_history.first_subscription_at,
        subscription_history.first_paid_at,
        subscription_history.subscription_periods,
        subscription_history.products_ever,
        cast(coalesce(current_mrr.current_mrr, 0) as decimal(18, 2)) as current_mrr,
        cast(12 * coalesce(current_mrr.current_mrr, 0) as decimal(18, 2)) as current_arr,
        coalesce(current_mrr.current_products, 0) as current_products,
        coalesce(current_mrr.current_mrr, 0) > 0 as is_paying,
        cast(coalesce(lifetime_revenue.lifetime_net_revenue, 0) as decimal(18, 2))
            as lifetime_net_revenue

    from users
    inner join subscription_history on users.user_id = subscription_history.customer_id
    left join billing_account on users.user_id = billing_account.customer_id
    left join current_mrr on users.user_id = current_mrr.customer_id
    left join lifetime_revenue on users.user_id = lifetime_revenue.customer_id

)

select * from final
