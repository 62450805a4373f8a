-- Recognized revenue only moves billings in time (METRICS.md): the months of every invoice sum
-- exactly to its net_collected in fct_revenue, and an annual invoice has 12 service months (a
-- prorated one after a mid-cycle change, the calendar months its service period spans); beyond
-- them only a refund made after the service ended, in the month it was made.
with

recognized as (

    select
        invoice_id,
        sum(recognized_usd) as recognized_usd,
        count(case when service_month_number <= service_months then 1 end) as months,
        max(case when service_month_number > service_months then service_month end)
            as late_refund_month
    from {{ ref('fct_recognized_revenue_monthly') }}
    group by invoice_id

),

-- The service months an invoice spans: 1..12 calendar months of its service period.
revenue as (

    select
        *,
        {{ months_between('period_start_at', 'period_end_at') }}
            as spanned_months
    from {{ ref('fct_revenue') }}

)

select
    revenue.invoice_id,
    revenue.billing_period,
    revenue.net_collected,
    recognized.recognized_usd,
    recognized.months
from revenue
left join recognized on revenue.invoice_id = recognized.invoice_id
where
    recognized.invoice_id is null
    or recognized.recognized_usd <> revenue.net_collected
    or recognized.late_refund_month
    <> cast({{ dbt.date_trunc('month', 'revenue.refunded_at') }} as date)
    or recognized.months <> case
        when revenue.spanned_months is null or revenue.spanned_months < 1 then 1
        when revenue.spanned_months > 12 then 12
        else revenue.spanned_months
    end
