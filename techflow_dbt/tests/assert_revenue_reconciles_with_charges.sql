-- Revenue reconciles, per month an invoice was issued:
--   what paid invoices say was paid, less what was refunded on them
--   = what succeeded charges actually collected, net of refunds,
-- (both in the invoices' own currencies), and fct_revenue's net_collected for the month equals
-- the same charge total converted to USD revenue excluding tax (int_invoice_conversion, the same
-- to_usd_revenue conversion per invoice), so the mart neither drops nor double counts money. Both
-- sides come from separate Stripe objects (invoices vs charges), so a lost charge, a double
-- charge or an unpaid "paid" invoice shows up here.
-- Returns each month that does not reconcile (to the cent).
-- Finance's test: it reads int_invoice_conversion, which is private to the finance group.
{{ config(group='finance') }}

with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

charge_totals as (

    select
        invoice_id,
        sum(case when charge_status = 'succeeded' then amount_refunded end) as refunded,
        sum(net_amount) as net_collected
    from charges
    group by invoice_id

),

by_invoice_month as (

    select
        cast({{ dbt.date_trunc('month', 'invoices.created_at') }} as date) as revenue_month,
        coalesce(sum(case when invoices.invoice_status = 'paid' then invoices.amount_paid end), 0)
        - coalesce(
            sum(case when invoices.invoice_status = 'paid' then charge_totals.refunded end), 0
        ) as paid_less_refunds,
        coalesce(sum(charge_totals.net_collected), 0) as charges_net

    from invoices
    left join charge_totals on invoices.invoice_id = charge_totals.invoice_id
    group by revenue_month

),

mart as (

    select
        revenue_month,
        sum(net_collected) as mart_net
    from {{ ref('fct_revenue') }}
    group by revenue_month

),

-- The mart excludes internal QA customers. Compare it with the charges of real customers found
-- through each charge's own customer (not the invoice's, the path fct_revenue takes), so the
-- check does not recompute the mart's join: an invoice booked to the wrong customer shows here.
charges_of_customers as (

    select
        charges.invoice_id,
        coalesce(sum(case when charges.charge_status = 'succeeded' then charges.amount end), 0)
            as collected,
        coalesce(
            sum(case when charges.charge_status = 'succeeded' then charges.amount_refunded end), 0
        ) as refunded
    from charges
    where
        exists (
            select 1 from {{ ref('stg_stripe__customers') }} as customers
            where customers.stripe_customer_id = charges.stripe_customer_id
        )
    group by charges.invoice_id

),

customers_usd as (

    select
        cast({{ dbt.date_trunc('month', 'invoices.created_at') }} as date) as revenue_month,
        sum(
            {{ to_usd_revenue('charges_of_customers.collected', 'invoice_fx') }}
            - {{ to_usd_revenue('charges_of_customers.refunded', 'invoice_fx') }}
        ) as charges_net
    from charges_of_customers
    inner join invoices on charges_of_customers.invoice_id = invoices.invoice_id
    inner join {{ ref('int_invoice_conversion') }} as invoice_fx
        on charges_of_customers.invoice_id = invoice_fx.invoice_id
    group by revenue_month

)

select
    by_invoice_month.revenue_month,
    by_invoice_month.paid_less_refunds,
    by_invoice_month.charges_net,
    mart.mart_net,
    customers_usd.charges_net as customers_charges_net
from by_invoice_month
full outer join mart on by_invoice_month.revenue_month = mart.revenue_month
left join
    customers_usd
    on by_invoice_month.revenue_month = customers_usd.revenue_month
where
    by_invoice_month.paid_less_refunds != by_invoice_month.charges_net
    or coalesce(mart.mart_net, 0) != coalesce(customers_usd.charges_net, 0)
