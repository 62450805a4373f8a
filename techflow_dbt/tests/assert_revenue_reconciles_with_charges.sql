-- Revenue reconciles, per month an invoice was issued, in two independent ways:
--   1. in the invoices' own currencies: what paid invoices say was paid, less what was refunded
--      on them = what succeeded charges actually collected, net of refunds (two separate Stripe
--      objects, so a lost charge, a double charge or an unpaid "paid" invoice shows up here);
--   2. in USD: fct_revenue's net_collected = the real customers' charges converted here by the
--      FX rules written out again (METRICS.md, "Money and FX": the fx_rates seed's rate of each
--      charge's own month, of each refund's own month; revenue is the invoice's subtotal / total
--      share), reading the seed directly rather than the models or macros fct_revenue converts
--      with, and finding customers through each charge's own Stripe customer (not the invoice's,
--      the path fct_revenue takes), so an invoice booked to the wrong customer shows here too.
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

seed_rates as (

    select
        cast(rate_month as date) as rate_month,
        lower(currency) as currency,
        cast(usd_per_unit as decimal(12, 6)) as usd_per_unit
    from {{ ref('fx_rates') }}

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
    where invoice_status != 'void'
    group by revenue_month

),

-- Succeeded charges of real customers with the rate of the month they were charged and, when
-- refunded, of the month they were refunded (a charge's last version is its refund).
customer_cash as (

    select
        charges.invoice_id,
        charges.amount,
        charges.amount_refunded,
        case when charges.currency = 'usd' then 1 else charged.usd_per_unit end as charge_rate,
        case when charges.currency = 'usd' then 1 else refunded.usd_per_unit end as refund_rate
    from charges
    left join seed_rates as charged
        on
            charges.currency = charged.currency
            and cast({{ dbt.date_trunc('month', 'charges.created_at') }} as date)
            = charged.rate_month
    left join seed_rates as refunded
        on
            charges.currency = refunded.currency
            and cast({{ dbt.date_trunc('month', 'charges.updated_at') }} as date)
            = refunded.rate_month
    where
        charges.charge_status = 'succeeded'
        and exists (
            select 1 from {{ ref('stg_stripe__customers') }} as customers
            where customers.stripe_customer_id = charges.stripe_customer_id
        )

),

invoice_shares as (

    select
        invoice_id,
        created_at,
        invoice_status,
        -- The revenue share of a payment (tax excluded), to 10 decimals; 1 when nothing is due.
        case
            when total > 0 then cast(subtotal / total as decimal(18, 10))
            else cast(1 as decimal(18, 10))
        end as revenue_share
    from invoices

),

customers_usd as (

    select
        cast({{ dbt.date_trunc('month', 'invoice_shares.created_at') }} as date) as revenue_month,
        sum(
            round(
                customer_cash.amount * invoice_shares.revenue_share * customer_cash.charge_rate, 2
            )
            - case
                when customer_cash.amount_refunded > 0
                    then round(
                        customer_cash.amount_refunded * invoice_shares.revenue_share
                        * customer_cash.refund_rate,
                        2
                    )
                else 0
            end
        ) as charges_net
    from customer_cash
    inner join invoice_shares on customer_cash.invoice_id = invoice_shares.invoice_id
    where invoice_shares.invoice_status != 'void'
    group by {{ dbt.date_trunc('month', 'invoice_shares.created_at') }}

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
