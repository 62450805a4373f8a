-- Customer retention by month, by the standard definitions (METRICS.md, "Retention": ChartMogul,
-- KeyBanc, Baremetrics). A customer is the billing account (the app user who owns the
-- subscriptions), all products summed. Grain: one row per customer x month for every customer in
-- one of the month's two cohorts:
--   monthly cohort            paying (MRR > 0) at the start of the month, i.e. on the previous
--                             month's last day: NRR, GRR and logo churn compare each one's MRR at
--                             the month's end with that start;
--   trailing-12-month cohort  paying on the last day of the month twelve months earlier: the
--                             trailing-12-month NRR/GRR compare each one's MRR at this month's end
--                             with that.
-- Customers who start paying during the month are in neither cohort (they are new business, not
-- retention). A move between products at the same MRR keeps the customer's MRR, so it is neither
-- churn nor expansion; a cross-sell raises it (expansion). The as-of month ends on the as-of day
-- until it is over (is_complete_month false); the metrics read complete months only.
with

mrr_monthly as (

    select * from {{ ref('fct_mrr_monthly') }}

),

months as (

    {{ calendar_months('mrr_month') }}

),

customer_months as (

    select
        customer_id,
        mrr_month,
        sum(start_mrr) as start_mrr,
        sum(end_mrr) as end_mrr
    from mrr_monthly
    group by customer_id, mrr_month

),

-- The trailing-12-month start: the customer's MRR at the end of the (complete) month twelve
-- months before, carried to the month it is the start of.
year_earlier as (

    select
        customer_months.customer_id,
        cast({{ dbt.dateadd('month', 12, 'customer_months.mrr_month') }} as date) as mrr_month,
        customer_months.end_mrr as year_earlier_mrr
    from customer_months
    inner join months on customer_months.mrr_month = months.mrr_month
    where customer_months.end_mrr > 0 and months.is_complete_month

),

members as (

    select
        customer_id,
        mrr_month
    from customer_months
    where start_mrr > 0

    union

    select
        year_earlier.customer_id,
        year_earlier.mrr_month
    from year_earlier
    -- Only months the calendar has reached.
    inner join months on year_earlier.mrr_month = months.mrr_month

),

measured as (

    select
        members.customer_id,
        members.mrr_month as retention_month,
        months.start_date,
        months.end_date,
        {{ add_days(-1, dbt.dateadd('month', -11, 'members.mrr_month')) }} as year_earlier_date,
        months.is_complete_month,
        coalesce(customer_months.start_mrr, 0) as start_mrr,
        coalesce(customer_months.end_mrr, 0) as end_mrr,
        coalesce(year_earlier.year_earlier_mrr, 0) as year_earlier_mrr

    from members
    inner join months on members.mrr_month = months.mrr_month
    left join customer_months
        on
            members.customer_id = customer_months.customer_id
            and members.mrr_month = customer_months.mrr_month
    left join year_earlier
        on
            members.customer_id = year_earlier.customer_id
            and members.mrr_month = year_earlier.mrr_month

),

final as (

    select
        {{ generate_surrogate_key(['customer_id', 'retention_month']) }}
            as customer_retention_monthly_id,
        retention_month,
        customer_id,
        start_date,
        end_date,
        year_earlier_date,
        is_complete_month,
        cast(start_mrr as decimal(18, 2)) as start_mrr,
        cast(end_mrr as decimal(18, 2)) as end_mrr,
        cast(year_earlier_mrr as decimal(18, 2)) as year_earlier_mrr,
        start_mrr > 0 as is_in_monthly_cohort,
        year_earlier_mrr > 0 as is_in_trailing_12m_cohort,
        -- The monthly cohort's bridge: start + expansion + contraction + churned = monthly end.
        cast(case when start_mrr > 0 then end_mrr else 0 end as decimal(18, 2))
            as monthly_end_mrr,
        cast(case when start_mrr > 0 then least(end_mrr, start_mrr) else 0 end as decimal(18, 2))
            as monthly_retained_mrr,
        cast(
            case when start_mrr > 0 and end_mrr > start_mrr then end_mrr - start_mrr else 0 end
            as decimal(18, 2)
        ) as expansion_mrr,
        cast(
            case
                when start_mrr > 0 and end_mrr > 0 and end_mrr < start_mrr then end_mrr - start_mrr
                else 0
            end
            as decimal(18, 2)
        ) as contraction_mrr,
        cast(case when start_mrr > 0 and end_mrr = 0 then -start_mrr else 0 end as decimal(18, 2))
            as churned_mrr,
        start_mrr > 0 and end_mrr = 0 as is_churned,
        -- The trailing-12-month cohort: MRR now, and capped at what it paid a year earlier.
        cast(case when year_earlier_mrr > 0 then end_mrr else 0 end as decimal(18, 2))
            as trailing_12m_end_mrr,
        cast(
            case when year_earlier_mrr > 0 then least(end_mrr, year_earlier_mrr) else 0 end
            as decimal(18, 2)
        ) as trailing_12m_retained_mrr

    from measured

)

select * from final
