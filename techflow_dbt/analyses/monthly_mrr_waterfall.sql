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

    select distinct cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start
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
        {{ add_days(-1, 'months.month_start') }} as opening_day,
        least(
            {{ add_days(-1, dbt.dateadd('month', 1, 'months.month_start')) }},
            newest_day.date_day
        ) as closing_day
    from months
    cross join newest_day

),

opening_closing as (

    select
        month_bounds.month_start,
        coalesce(sum(case
            when mrr_daily.date_day = month_bounds.opening_day then mrr_daily.mrr
        end), 0) as opening_mrr,
        coalesce(sum(case
            when mrr_daily.date_day = month_bounds.closing_day then mrr_daily.mrr
        end), 0) as closing_mrr
    from month_bounds
    left join mrr_daily
        on mrr_daily.date_day in (month_bounds.opening_day, month_bounds.closing_day)
    group by month_bounds.month_start

),

movements as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        coalesce(sum(case when movement = 'new' then mrr_change end), 0) as new_mrr,
        coalesce(sum(case when movement = 'reactivation' then mrr_change end), 0)
            as reactivation_mrr,
        coalesce(sum(case when movement = 'expansion' then mrr_change end), 0) as expansion_mrr,
        coalesce(-sum(case when movement = 'contraction' then mrr_change end), 0)
            as contraction_mrr,
        coalesce(-sum(case when movement = 'churn' then mrr_change end), 0) as churned_mrr
    from mrr_daily
    group by {{ dbt.date_trunc('month', 'date_day') }}

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
