-- Recognized revenue (METRICS.md, "Billings vs recognized revenue"): each invoice's net collected
-- amount spread evenly over the months of service it pays for, starting with the month its service
-- period starts. Grain: one row per invoice x service month. A monthly invoice is one row; an
-- annual one is twelve; a prorated invoice after a mid-cycle change (issue 13) covers the calendar
-- months its service period spans (an annual plan upgraded in month 5 bills months 5..12). Money
-- is USD revenue excluding tax, as fct_revenue. Cents are split so the months sum exactly to the
-- invoice: every month gets the rounded share and the last month the remainder.
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
        net_collected,
        -- Calendar months the service period spans (1..12); 1 for a period-less invoice.
        least(greatest(coalesce(
            {{ dbt.datediff('period_start_at', 'period_end_at', 'month') }}, 1
        ), 1), 12) as service_months,
        cast({{ dbt.date_trunc('month', 'coalesce(period_start_at, invoiced_at)') }} as date)
            as first_service_month
    from revenue

),

month_offsets as (

    -- generated_number runs 1..12; offset 0 is the first service month.
    select cast(generated_number as integer) - 1 as month_offset
    from ({{ dbt.generate_series(12) }}) as series

),

spread as (

    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.product,
        invoices.billing_period,
        invoices.service_months,
        month_offsets.month_offset,
        cast(
            {{ dbt.dateadd('month', 'month_offsets.month_offset', 'invoices.first_service_month') }}
            as date
        ) as service_month,
        case
            when month_offsets.month_offset < invoices.service_months - 1
                then round(invoices.net_collected / invoices.service_months, 2)
            else
                invoices.net_collected
                - round(invoices.net_collected / invoices.service_months, 2)
                * (invoices.service_months - 1)
        end as recognized_usd

    from invoices
    inner join month_offsets on invoices.service_months > month_offsets.month_offset

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
