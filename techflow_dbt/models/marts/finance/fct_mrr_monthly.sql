-- Monthly MRR bridge by product (METRICS.md, "Retention"): each customer x product pair's MRR at
-- the start of a month (on the previous month's last day) and at its end (on its last day).
-- Grain: one row per customer x product x month for every pair paying (MRR > 0) at the month's
-- start or end. Product-level retention reads the rows paying at the start; customer-level
-- retention (fct_customer_retention_monthly) sums a customer's products. The month of the as-of
-- day ends on the as-of day until it is over: is_complete_month is false there, and no metric
-- shows it as a month.
with

mrr_daily as (

    select * from {{ ref('fct_mrr_daily') }}

),

periods as (

    {{ calendar_months('mrr_month') }}

),

-- Pairs paying on a month's first or last instant: fct_mrr_daily has a row for every day a pair
-- has MRR (gap-free), so a pair without a row that day had none.
paying_days as (

    select
        customer_id,
        product,
        date_day,
        mrr
    from mrr_daily
    where
        mrr > 0
        and date_day in (
            select periods.start_date from periods
            union
            select periods.end_date from periods
        )

),

pair_months as (

    select
        periods.mrr_month,
        paying_days.customer_id,
        paying_days.product
    from periods
    inner join paying_days on periods.start_date = paying_days.date_day

    union

    select
        periods.mrr_month,
        paying_days.customer_id,
        paying_days.product
    from periods
    inner join paying_days on periods.end_date = paying_days.date_day

),

final as (

    select
        {{ generate_surrogate_key(
            ['pair_months.customer_id', 'pair_months.product', 'pair_months.mrr_month']
        ) }} as mrr_monthly_id,
        pair_months.mrr_month,
        pair_months.customer_id,
        pair_months.product,
        periods.start_date,
        periods.end_date,
        periods.is_complete_month,
        cast(coalesce(at_start.mrr, 0) as decimal(18, 2)) as start_mrr,
        cast(coalesce(at_end.mrr, 0) as decimal(18, 2)) as end_mrr,
        -- What of the starting MRR the pair still pays at the end (no more than it paid).
        cast(
            least(coalesce(at_end.mrr, 0), coalesce(at_start.mrr, 0)) as decimal(18, 2)
        ) as retained_mrr,
        coalesce(at_start.mrr, 0) > 0 as is_paying_at_start,
        coalesce(at_start.mrr, 0) > 0 and at_end.mrr is null as is_churned

    from pair_months
    inner join periods on pair_months.mrr_month = periods.mrr_month
    left join paying_days as at_start
        on
            pair_months.customer_id = at_start.customer_id
            and pair_months.product = at_start.product
            and periods.start_date = at_start.date_day
    left join paying_days as at_end
        on
            pair_months.customer_id = at_end.customer_id
            and pair_months.product = at_end.product
            and periods.end_date = at_end.date_day

)

select * from final
