-- How each Stripe invoice's money becomes USD revenue (issue 13). Grain: one row per invoice.
--   usd_per_unit   the fx_rates seed's rate for the invoice's currency in the month it was issued
--                  (the generator priced it at the same rate); a month outside the seed takes its
--                  first or last month
--   ex_tax_share   subtotal / total: the part of what was paid that is revenue, not sales tax
--                  (1 when nothing is due)
-- Revenue in USD = invoice-currency amount x ex_tax_share x usd_per_unit (macro to_usd_revenue).
with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

rates as (

    select
        cast(rate_month as date) as rate_month,
        lower(trim(currency)) as currency,
        cast(usd_per_unit as decimal(12, 6)) as usd_per_unit
    from {{ ref('fx_rates') }}

),

bounds as (

    select
        min(rate_month) as first_month,
        max(rate_month) as last_month
    from rates

),

issued as (

    select
        invoice_id,
        currency,
        subtotal,
        total,
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as invoice_month
    from invoices

),

invoice_months as (

    select
        issued.invoice_id,
        issued.currency,
        issued.subtotal,
        issued.total,
        case
            when issued.invoice_month < bounds.first_month then bounds.first_month
            when issued.invoice_month > bounds.last_month then bounds.last_month
            else issued.invoice_month
        end as rate_month
    from issued
    cross join bounds

),

final as (

    select
        invoice_months.invoice_id,
        invoice_months.currency,
        invoice_months.rate_month,
        case
            when invoice_months.currency = 'usd' then cast(1 as decimal(12, 6))
            else rates.usd_per_unit
        end as usd_per_unit,
        case
            when invoice_months.total > 0
                then cast(invoice_months.subtotal / invoice_months.total as decimal(18, 10))
            else cast(1 as decimal(18, 10))
        end as ex_tax_share
    from invoice_months
    left join rates
        on
            invoice_months.currency = rates.currency
            and invoice_months.rate_month = rates.rate_month

)

select * from final
