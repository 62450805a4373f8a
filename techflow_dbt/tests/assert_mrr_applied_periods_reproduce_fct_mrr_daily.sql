-- The record of the periods fct_mrr_daily was built from (int_mrr_applied_periods) reproduces
-- fct_mrr_daily on the newest day it built: per customer and product, the MRR of the recorded
-- periods that count that day (paid start on or before it, not ended by it) equals the table's.
-- A record out of step with the table (fct_mrr_daily restored from a backup without it, or the
-- record without fct_mrr_daily) would make the next incremental build skip or repeat changes
-- without a word; this fails first.
-- Returns each customer x product whose MRR differs.
{{ config(group='finance', meta={'dagster': {'ref': {'name': 'int_mrr_applied_periods'}}}) }}

with

newest as (

    select max(date_day) as date_day
    from {{ ref('fct_mrr_daily') }}

),

recorded as (

    select
        periods.customer_id,
        periods.product,
        sum(periods.mrr) as mrr
    from {{ ref('int_mrr_applied_periods') }} as periods
    cross join newest
    where
        periods.paid_start_date <= newest.date_day
        and (periods.ended_date is null or periods.ended_date > newest.date_day)
    group by periods.customer_id, periods.product

),

built as (

    select
        mrr_daily.customer_id,
        mrr_daily.product,
        mrr_daily.mrr
    from {{ ref('fct_mrr_daily') }} as mrr_daily
    inner join newest on mrr_daily.date_day = newest.date_day
    where mrr_daily.mrr > 0

)

select
    coalesce(recorded.customer_id, built.customer_id) as customer_id,
    coalesce(recorded.product, built.product) as product,
    recorded.mrr as recorded_mrr,
    built.mrr as built_mrr
from recorded
full outer join built
    on
        recorded.customer_id = built.customer_id
        and recorded.product = built.product
where recorded.mrr is distinct from built.mrr
