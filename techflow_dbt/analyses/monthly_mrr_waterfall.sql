-- Monthly MRR waterfall: for each month, opening MRR, then new, reactivation, expansion,
-- contraction and churn movements, and closing MRR. By construction
-- opening + new + reactivation + expansion - contraction - churn = closing, which the last
-- column checks (it is 0 for every month). Compile with `dbt compile -s monthly_mrr_waterfall`
-- and run the SQL from target/compiled/ in any DuckDB client.
with

mrr_daily as (

    select * from {{ ref('fct_mrr_daily') }}

),

months as (

    select distinct cast(date_trunc('month', date_day) as date) as month_start
    from mrr_daily

),

newest_day as (

    select max(date_day) as date_day
    from mrr_daily

),

-- A month closes on its last day, or on the newest day built for the running month.
month_bounds as (

    select
        months.month_start,
        cast(months.month_start - interval 1 day as date) as opening_day,
        least(
            cast(months.month_start + interval 1 month - interval 1 day as date),
            newest_day.date_day
        ) as closing_day
    from months
    cross join newest_day

),

opening_closing as (

    select
        month_bounds.month_start,
        coalesce(sum(mrr_daily.mrr) filter (where mrr_daily.date_day = month_bounds.opening_day), 0)
            as opening_mrr,
        coalesce(sum(mrr_daily.mrr) filter (where mrr_daily.date_day = month_bounds.closing_day), 0)
            as closing_mrr
    from month_bounds
    left join mrr_daily
        on mrr_daily.date_day in (month_bounds.opening_day, month_bounds.closing_day)
    group by month_bounds.month_start

),

movements as (

    select
        cast(date_trunc('month', date_day) as date) as month_start,
        coalesce(sum(mrr_change) filter (where movement = 'new'), 0) as new_mrr,
        coalesce(sum(mrr_change) filter (where movement = 'reactivation'), 0) as reactivation_mrr,
        coalesce(sum(mrr_change) filter (where movement = 'expansion'), 0) as expansion_mrr,
        coalesce(-sum(mrr_change) filter (where movement = 'contraction'), 0) as contraction_mrr,
        coalesce(-sum(mrr_change) filter (where movement = 'churn'), 0) as churned_mrr
    from mrr_daily
    group by month_start

)

select
    opening_closing.month_start,
    opening_closing.opening_mrr,
    movements.new_mrr,
    movements.reactivation_mrr,
    movements.expansion_mrr,
    movements.contraction_mrr,
    movements.churned_mrr,
    opening_closing.closing_mrr,
    opening_closing.opening_mrr + movements.new_mrr + movements.reactivation_mrr
    + movements.expansion_mrr - movements.contraction_mrr - movements.churned_mrr
    - opening_closing.closing_mrr as unexplained_mrr
from opening_closing
inner join movements on opening_closing.month_start = movements.month_start
order by opening_closing.month_start
