-- Customer-level MRR movements (METRICS.md, "Movements and their grain"): fct_mrr_daily summed
-- over products per customer and day, classified by the same rules as the product-level
-- movement. A customer moving from one product to another in a day is expansion or contraction
-- here (or unchanged), where fct_mrr_daily shows churn on one product and new on the other.
-- A product without a row on a day had no MRR that day nor the day before (fct_mrr_daily keeps
-- the churn day), so summing the rows that exist gives both totals.
with

mrr_daily as (

    select * from {{ ref('fct_mrr_daily') }}

),

customer_days as (

    select
        customer_id,
        date_day,
        sum(mrr) as mrr,
        sum(previous_mrr) as previous_mrr,
        sum(case when mrr > 0 then 1 else 0 end) as paid_products

    from mrr_daily
    group by customer_id, date_day

),

with_history as (

    select
        *,
        coalesce(max(case when mrr > 0 then 1 else 0 end) over (
            partition by customer_id
            order by date_day
            rows between unbounded preceding and 1 preceding
        ), 0) = 1 as paid_before_day
    from customer_days

),

final as (

    select
        {{ generate_surrogate_key(['customer_id', 'date_day']) }} as customer_mrr_daily_id,
        customer_id,
        date_day,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(previous_mrr as decimal(18, 2)) as previous_mrr,
        cast(mrr - previous_mrr as decimal(18, 2)) as mrr_change,
        cast(12 * mrr as decimal(18, 2)) as arr,
        paid_products,
        {{ mrr_movement('previous_mrr', 'mrr', 'paid_before_day') }} as movement

    from with_history

)

select * from final
