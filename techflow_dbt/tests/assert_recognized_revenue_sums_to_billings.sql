-- Recognized revenue only moves billings in time (METRICS.md): the service months of every invoice
-- sum exactly to its net_collected in fct_revenue, and an annual invoice has 12 of them (a
-- prorated one after a mid-cycle change, the calendar months its service period spans).
with

recognized as (

    select
        invoice_id,
        sum(recognized_usd) as recognized_usd,
        count(*) as months
    from {{ ref('fct_recognized_revenue_monthly') }}
    group by invoice_id

)

select
    revenue.invoice_id,
    revenue.billing_period,
    revenue.net_collected,
    recognized.recognized_usd,
    recognized.months
from {{ ref('fct_revenue') }} as revenue
left join recognized on revenue.invoice_id = recognized.invoice_id
where
    recognized.invoice_id is null
    or recognized.recognized_usd <> revenue.net_collected
    or recognized.months <> case
        when revenue.period_start_at is null then 1
        when {{ dbt.datediff('revenue.period_start_at', 'revenue.period_end_at', 'month') }} > 12
            then 12
        when {{ dbt.datediff('revenue.period_start_at', 'revenue.period_end_at', 'month') }} < 1
            then 1
        else {{ dbt.datediff('revenue.period_start_at', 'revenue.period_end_at', 'month') }}
    end
