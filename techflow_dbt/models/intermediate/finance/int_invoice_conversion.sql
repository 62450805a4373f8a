-- How each Stripe invoice's billed amounts become USD revenue (METRICS.md, "Money and FX").
-- Grain: one row per invoice.
--   usd_per_unit   the fx_rates seed's rate for the invoice's currency in the month it was issued
--                  (billings are converted at the invoice's own date; cash — charges and refunds —
--                  at theirs, in int_charge_conversion). A month the seed lacks stops the build
--                  with an error naming the invoice, its currency and date (macro usd_rate).
--   ex_tax_share   subtotal / total: the part of what was paid that is revenue, not sales tax
--                  (1 when nothing is due).
-- Billed USD = invoice-currency amount x ex_tax_share x usd_per_unit (macro to_usd_revenue).
with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

rates as (

    select * from {{ ref('int_fx_rates') }}

),

final as (

    select
        invoices.invoice_id,
        invoices.currency,
        {{ fx_month('invoices.created_at') }} as rate_month,
        {{ usd_rate(
            'rates.usd_per_unit', 'invoices.currency', 'invoices.created_at',
            "'invoice ' || invoices.invoice_id",
        ) }} as usd_per_unit,
        case
            when invoices.total > 0
                then cast(invoices.subtotal / invoices.total as decimal(18, 10))
            else cast(1 as decimal(18, 10))
        end as ex_tax_share

    from invoices
    left join rates
        on
            invoices.currency = rates.currency
            and {{ fx_month('invoices.created_at') }} = rates.rate_month

)

select * from final
