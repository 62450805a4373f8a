-- Billed and collected revenue. Grain: one row per Stripe invoice (one per billing cycle of a
-- subscription period; voided drafts are not revenue and are left out), with its payment attempts
-- rolled up: what was collected by succeeded charges, what was refunded since, and what TechFlow
-- kept (net_collected). Money columns are USD revenue excluding sales tax (int_invoice_conversion:
-- the invoice month's fx_rates rate, times subtotal / total); invoice_* columns keep the invoice's
-- own currency. billed_usd is the invoice subtotal in USD: billings net of proration credits
-- (proration_credit_usd), the figure that reconciles with MRR. Invoices of Stripe customers
-- dropped in staging (internal QA) are left out.
with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

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
        coalesce(sum(case when charge_status = 'succeeded' then amount end), 0)
            as amount_collected,
        coalesce(sum(case when charge_status = 'succeeded' then amount_refunded end), 0)
            as amount_refunded,
        coalesce(sum(net_amount), 0) as net_collected,
        min(case when charge_status = 'succeeded' then created_at end) as collected_at

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
        cast(coalesce(charges_per_invoice.net_collected, 0) as decimal(18, 2))
            as invoice_net_collected,
        {{ to_usd_revenue('invoices.amount_due', 'conversion') }} as amount_due,
        {{ to_usd_revenue('invoices.amount_paid', 'conversion') }} as amount_paid,
        cast(round(invoices.subtotal * conversion.usd_per_unit, 2) as decimal(18, 2))
            as billed_usd,
        cast(round(
            coalesce(credits_per_invoice.proration_credit, 0) * conversion.usd_per_unit, 2
        ) as decimal(18, 2)) as proration_credit_usd,
        {{ to_usd_revenue('coalesce(charges_per_invoice.amount_collected, 0)', 'conversion') }}
            as amount_collected,
        {{ to_usd_revenue('coalesce(charges_per_invoice.amount_refunded, 0)', 'conversion') }}
            as amount_refunded,
        {{ to_usd_revenue('coalesce(charges_per_invoice.amount_collected, 0)', 'conversion') }}
        - {{ to_usd_revenue('coalesce(charges_per_invoice.amount_refunded, 0)', 'conversion') }}
            as net_collected,
        cast(round(
            coalesce(charges_per_invoice.net_collected, 0) * conversion.usd_per_unit, 2
        ) as decimal(18, 2))
        - (
            {{ to_usd_revenue('coalesce(charges_per_invoice.amount_collected, 0)', 'conversion') }}
            - {{ to_usd_revenue('coalesce(charges_per_invoice.amount_refunded, 0)', 'conversion') }}
        ) as tax_collected_usd,
        coalesce(charges_per_invoice.charge_attempts, 0) as charge_attempts,
        coalesce(charges_per_invoice.failed_attempts, 0) as failed_attempts,
        charges_per_invoice.collected_at

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
