-- Billed and collected revenue. Grain: one row per Stripe invoice (one per billing period of a
-- subscription period), with its payment attempts rolled up: what was collected by succeeded
-- charges, what was refunded since, and what TechFlow kept (net_collected). Money in USD.
-- Invoices of Stripe customers dropped in staging (internal QA) are left out.
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
        invoices.amount_due,
        invoices.amount_paid,
        cast(coalesce(charges_per_invoice.amount_collected, 0) as decimal(18, 2))
            as amount_collected,
        cast(coalesce(charges_per_invoice.amount_refunded, 0) as decimal(18, 2))
            as amount_refunded,
        cast(coalesce(charges_per_invoice.net_collected, 0) as decimal(18, 2)) as net_collected,
        coalesce(charges_per_invoice.charge_attempts, 0) as charge_attempts,
        coalesce(charges_per_invoice.failed_attempts, 0) as failed_attempts,
        charges_per_invoice.collected_at

    from invoices
    inner join customers on invoices.stripe_customer_id = customers.stripe_customer_id
    left join subscriptions on invoices.subscription_id = subscriptions.subscription_id
    left join charges_per_invoice on invoices.invoice_id = charges_per_invoice.invoice_id

)

select * from final
