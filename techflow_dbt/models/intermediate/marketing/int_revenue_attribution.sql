-- One row per Stripe invoice in fct_revenue, credited to the first-touch channel and campaign
-- (and acquisition month) of the customer who paid it. Revenue is what TechFlow kept: charges
-- that succeeded net of refunds (fct_revenue.net_collected), so attribution reconciles with
-- finance to the cent.
with

revenue as (

    select * from {{ ref('fct_revenue') }}

),

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

final as (

    select
        revenue.invoice_id,
        revenue.customer_id,
        revenue.product,
        revenue.revenue_month,
        revenue.net_collected as net_revenue_usd,
        -- A left join keeps every invoice: the not_null tests on these columns flag revenue of a
        -- customer without an acquisition record instead of silently dropping it.
        user_acquisition.channel,
        user_acquisition.campaign,
        user_acquisition.cohort_month as acquisition_month

    from revenue
    left join user_acquisition
        on revenue.customer_id = user_acquisition.user_id

)

select * from final
