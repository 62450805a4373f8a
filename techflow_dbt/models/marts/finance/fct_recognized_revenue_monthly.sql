-- Recognized revenue (METRICS.md, "Billings vs recognized revenue"): each invoice's collected cash
-- spread evenly over the months of service it pays for, starting with the month its service
-- period starts. Grain: one row per invoice x month in which it recognizes revenue. A monthly
-- invoice is one row; an annual one is twelve; a prorated invoice after a mid-cycle change
-- covers the calendar months its service period spans. Money is USD revenue excluding
-- tax, as fct_revenue.
--
-- A refund never restates a month before the month it was made: the months before it keep
-- their share of what was collected; from the refund month on, what remains (net collected less
-- what was already recognized) is spread over the remaining service months — or booked whole in
-- the refund month when the refund exceeds it — and a refund made after the service ended is its
-- own row in the month it was made. Cents are split so an invoice's rows sum exactly to its
-- net_collected: every month gets the rounded share and the last month the remainder.
with

revenue as (

    select * from {{ ref('fct_revenue') }}

),

invoices as (

    select
        invoice_id,
        customer_id,
        product,
        billing_period,
        amount_collected,
        net_collected,
        -- Calendar months the service period spans (1..12); 1 for a period-less invoice.
        least(greatest(coalesce(
            {{ months_between('period_start_at', 'period_end_at') }}, 1
        ), 1), 12) as service_months,
        cast({{ dbt.date_trunc('month', 'coalesce(period_start_at, invoiced_at)') }} as date)
            as first_service_month,
        cast({{ dbt.date_trunc('month', 'refunded_at') }} as date) as refund_month,
        amount_refunded <> 0 as has_refund
    from revenue

),

with_refund_offset as (

    select
        *,
        -- Months from the first service month to the refund's (0 when refunded before service).
        case
            when has_refund
                then greatest({{ months_between('first_service_month', 'refund_month') }}, 0)
        end as refund_offset
    from invoices

),

month_offsets as (

    -- generated_number runs 1..12; offset 0 is the first service month.
    select cast(generated_number as integer) - 1 as month_offset
    from ({{ dbt.generate_series(12) }}) as series

),

collected_shares as (

    select
        invoices.*,
        month_offsets.month_offset,
        {{ even_share(
            'invoices.amount_collected', 'invoices.service_months', 'month_offsets.month_offset'
        ) }} as collected_share

    from with_refund_offset as invoices
    inner join month_offsets on invoices.service_months > month_offsets.month_offset

),

-- What remains to recognize from the refund month on: net collected less the collected shares
-- of the months before it (closed, never restated).
remaining as (

    select
        *,
        net_collected - sum(
            case when month_offset < refund_offset then collected_share else 0 end
        ) over (partition by invoice_id) as remaining_after_refund,
        service_months - refund_offset as months_from_refund

    from collected_shares

),

service_rows as (

    select
        invoice_id,
        customer_id,
        product,
        billing_period,
        service_months,
        month_offset,
        case
            when refund_offset is null or month_offset < refund_offset then collected_share
            -- The refund exceeds what was left to recognize: all of it in the refund month.
            when remaining_after_refund < 0
                then case when month_offset = refund_offset then remaining_after_refund else 0 end
            else {{ even_share(
                'remaining_after_refund', 'months_from_refund', 'month_offset - refund_offset'
            ) }}
        end as recognized_usd

    from remaining

),

-- A refund made after the invoice's last service month is booked in the month it was made.
late_refund_rows as (

    select
        invoice_id,
        customer_id,
        product,
        billing_period,
        service_months,
        refund_offset as month_offset,
        net_collected - amount_collected as recognized_usd

    from with_refund_offset
    where refund_offset >= service_months

),

spread as (

    select
        recognized.*,
        cast(
            {{ dbt.dateadd('month', 'recognized.month_offset', 'invoices.first_service_month') }}
            as date
        ) as service_month
    from (
        select * from service_rows
        union all
        select * from late_refund_rows
    ) as recognized
    inner join invoices on recognized.invoice_id = invoices.invoice_id

),

final as (

    select
        {{ generate_surrogate_key(['invoice_id', 'service_month']) }} as recognized_revenue_id,
        invoice_id,
        customer_id,
        product,
        billing_period,
        service_month,
        month_offset + 1 as service_month_number,
        service_months,
        cast(recognized_usd as decimal(18, 2)) as recognized_usd

    from spread

)

select * from final
