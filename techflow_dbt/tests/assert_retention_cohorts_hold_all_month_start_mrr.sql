-- The retention marts miss no MRR and count none twice: for every month, the starting MRR of
-- fct_customer_retention_monthly's members and of fct_mrr_monthly's pairs equals the company's
-- MRR on the month's start date, and fct_mrr_monthly's end MRR equals the MRR on its end date,
-- both read straight from fct_mrr_daily (one day's sum, no month logic). A pair or customer
-- lost or duplicated by the month snapshots shows up here. Returns each month that disagrees.
with

monthly as (

    select
        mrr_month,
        start_date,
        end_date,
        sum(start_mrr) as start_mrr,
        sum(end_mrr) as end_mrr
    from {{ ref('fct_mrr_monthly') }}
    group by mrr_month, start_date, end_date

),

customers as (

    select
        retention_month,
        sum(start_mrr) as start_mrr
    from {{ ref('fct_customer_retention_monthly') }}
    group by retention_month

),

daily as (

    select
        date_day,
        sum(mrr) as mrr
    from {{ ref('fct_mrr_daily') }}
    group by date_day

)

select
    monthly.mrr_month,
    monthly.start_mrr,
    customers.start_mrr as customer_start_mrr,
    coalesce(on_start.mrr, 0) as mrr_on_start_date,
    monthly.end_mrr,
    coalesce(on_end.mrr, 0) as mrr_on_end_date
from monthly
left join customers on monthly.mrr_month = customers.retention_month
left join daily as on_start on monthly.start_date = on_start.date_day
left join daily as on_end on monthly.end_date = on_end.date_day
where
    monthly.start_mrr != coalesce(on_start.mrr, 0)
    or coalesce(customers.start_mrr, 0) != coalesce(on_start.mrr, 0)
    or monthly.end_mrr != coalesce(on_end.mrr, 0)
