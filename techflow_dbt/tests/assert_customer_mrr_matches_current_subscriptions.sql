-- Two lineages of "what each customer pays now" agree: dim_customers.current_mrr and current_arr
-- (fct_mrr_daily's newest day, built from the daily step changes of every landed subscription
-- version) against the customer's subscription periods paying on the as-of day by
-- dim_subscriptions (the MRR date rule applied to each period's latest version, no daily
-- series), with ARR = 12 x MRR. They can only be compared when fct_mrr_daily is built through
-- the as-of day (its default); on an older build this test returns nothing.
-- Returns each customer on which they disagree.
with

customers as (

    select * from {{ ref('dim_customers') }}

),

subscriptions as (

    select * from {{ ref('dim_subscriptions') }}

),

paying_now as (

    select
        customer_id,
        sum(mrr) as mrr
    from subscriptions
    where is_currently_paying
    group by customer_id

),

built_through_as_of as (

    select max(date_day) = {{ as_of_day() }} as is_current
    from {{ ref('fct_mrr_daily') }}

)

select
    coalesce(customers.customer_id, paying_now.customer_id) as customer_id,
    customers.current_mrr,
    customers.current_arr,
    paying_now.mrr as subscriptions_mrr
from customers
full outer join paying_now on customers.customer_id = paying_now.customer_id
cross join built_through_as_of
where
    built_through_as_of.is_current
    and (
        coalesce(customers.current_mrr, -1) != coalesce(paying_now.mrr, 0)
        or coalesce(customers.current_arr, -1) != 12 * coalesce(paying_now.mrr, 0)
    )
