-- MRR is never negative: not a customer-day in fct_mrr_daily, not a period in dim_subscriptions,
-- not a customer in dim_customers. A negative value means a period was removed more often than it
-- was added (a broken step change) or a price or seat count went wrong upstream.
-- Returns every offending row with where it was found.
with

daily as (

    select
        'fct_mrr_daily' as model_name,
        mrr_daily_id as row_key,
        least(mrr, previous_mrr) as negative_value
    from {{ ref('fct_mrr_daily') }}
    where mrr < 0 or previous_mrr < 0

),

periods as (

    select
        'dim_subscriptions' as model_name,
        cast(subscription_id as varchar) as row_key,
        mrr as negative_value
    from {{ ref('dim_subscriptions') }}
    where mrr < 0

),

customers as (

    select
        'dim_customers' as model_name,
        cast(customer_id as varchar) as row_key,
        current_mrr as negative_value
    from {{ ref('dim_customers') }}
    where current_mrr < 0

)

select * from daily
union all
select * from periods
union all
select * from customers
