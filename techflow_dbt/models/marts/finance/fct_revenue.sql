-- Billed and collected revenue. Grain: one row per Stripe invoice (one per billing cycle of a
-- subscription period; voided drafts are not revenue and are left out), with its payment attempts
-- rolled up: what was collected by succeeded charges, what was refunded since, and what TechFlow
-- kept (net_collected). Money columns are USD revenue excluding sales tax (times subtotal / total),
-- converted by the FX rules of METRICS.md ("Money and FX"): billed amounts at the rate of the
-- invoice's month (int_invoice_conversion), cash at the rate of the day it moved — each charge at
-- its charge date, each refund at its refund date (int_charge_conversion) — so a refund can leave
-- net_collected a few cents below zero when the currency rose in between. invoice_* columns keep
-- the invoice's own currency. billed_usd is the invoice subtotal in USD: billings net of
-- proration credits (proration_credit_usd), the figure that reconciles with MRR. Invoices of
-- Stripe customers dropped in staging (internal QA) are left out.
with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

charges as (

    select * from {{ ref('int_charge_conversion') }}

),

customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

subscriptions as (

    select * from {{ ref('int_subscription_periods') }}

),

conversion as (

    select * from {{ ref('int_invoice_conversion') }}

),

credits_per_invoice as (

    select
        invoice_id,
        sum(case when is_credit then amount else 0 end) as proration_credit
    from {{ ref('stg_stripe__invoice_line_items') }}
    group by invoice_id

),

charges_per_invoice as (

    select
        invoice_id,
        count(*) as charge_attempts,
        sum(case when charge_status = 'failed' then 1 else 0 end) as failed_attempts,
        sum(collected_usd) as amount_collected,
        sum(refunded_usd) as amount_refunded,
        sum(collected_with_tax_usd - refunded_with_tax_usd) as net_collected_with_tax,
        sum(net_amount) as net_collected_invoice_currency,
        min(case when charge_status = 'succeeded' then charged_at end) as collected_at,
        max(refunded_at) as refunded_at

    from charges
    group by invoice_id

),

final as (

    select
        invoices.invoice_id,
        customers.customer_id,
        invoices.stripe_customer_id,
        invoices.subscription_id,
        subscriptions.product,
        subscriptions.plan_id,
        subscriptions.billing_period,
        invoices.invoice_status,
        invoices.currency,
        invoices.created_at as invoiced_at,
        cast(invoices.created_at as date) as invoice_date,
        cast({{ dbt.date_trunc('month', 'invoices.created_at') }} as date) as revenue_month,
        invoices.period_start_at,
        invoices.period_end_at,
        conversion.usd_per_unit,
        invoices.subtotal as invoice_subtotal,
        invoices.tax as invoice_tax,
        invoices.total as invoice_total,
        cast(coalesce(charges_per_invoice.net_collected_invoice_currency, 0) as decimal(18, 2))
            as invoice_net_collected,
        {{ to_usd_revenue('invoices.amount_due', 'conversion') }} as amount_due,
        {{ to_usd_revenue('invoices.amount_paid', 'conversion') }} as amount_paid,
        cast(round(invoices.subtotal * conversion.usd_per_unit, 2) as decimal(18, 2))
            as billed_usd,
        cast(round(
            coalesce(credits_per_invoice.proration_credit, 0) * conversion.usd_per_unit, 2
        ) as decimal(18, 2)) as proration_credit_usd,
        cast(coalesce(charges_per_invoice.amount_collected, 0) as decimal(18, 2))
            as amount_collected,
        cast(coalesce(charges_per_invoice.amount_refunded, 0) as decimal(18, 2))
            as amount_refunded,
        cast(
            coalesce(charges_per_invoice.amount_collected, 0)
            - coalesce(charges_per_invoice.amount_refunded, 0)
            as decimal(18, 2)
        ) as net_collected,
        cast(
            coalesce(charges_per_invoice.net_collected_with_tax, 0)
            - coalesce(charges_per_invoice.amount_collected, 0)
            + coalesce(charges_per_invoice.amount_refunded, 0)
            as decimal(18, 2)
        ) as tax_collected_usd,
        coalesce(charges_per_invoice.charge_attempts, 0) as charge_attempts,
        coalesce(charges_per_invoice.failed_attempts, 0) as failed_attempts,
        charges_per_invoice.collected_at,
        charges_per_invoice.refunded_at

    from invoices
    inner join customers on invoices.stripe_customer_id = customers.stripe_customer_id
    inner join conversion on invoices.invoice_id = conversion.invoice_id
    left join subscriptions on invoices.subscription_id = subscriptions.subscription_id
    left join charges_per_invoice on invoices.invoice_id = charges_per_invoice.invoice_id
    left join credits_per_invoice on invoices.invoice_id = credits_per_invoice.invoice_id
    -- A voided invoice was never owed: not revenue.
    where invoices.invoice_status != 'void'

)

select * from final
