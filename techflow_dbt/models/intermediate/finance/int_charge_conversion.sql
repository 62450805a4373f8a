-- Cash in USD (METRICS.md, "Money and FX"): each Stripe charge's collected amount converted at
-- the fx_rates rate of the day it was charged, and its refund at the rate of the day it was
-- refunded — money is worth what it was worth when it moved, so a refund a month later does not
-- restate the month the cash came in. Revenue excludes sales tax: the invoice's ex_tax_share
-- (int_invoice_conversion). Grain: one row per charge (payment attempt) of a known invoice.
-- A charge's last update is its refund (Stripe writes a second version of the charge when it is
-- refunded), so refunded_at is the latest version's updated_at when something was refunded.
with

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

invoice_conversion as (

    select * from {{ ref('int_invoice_conversion') }}

),

rates as (

    select * from {{ ref('int_fx_rates') }}

),

dated as (

    select
        charges.charge_id,
        charges.invoice_id,
        charges.stripe_customer_id,
        charges.currency,
        charges.charge_status,
        charges.amount,
        charges.amount_refunded,
        charges.net_amount,
        charges.created_at as charged_at,
        case when charges.amount_refunded > 0 then charges.updated_at end as refunded_at,
        invoice_conversion.ex_tax_share

    from charges
    inner join invoice_conversion on charges.invoice_id = invoice_conversion.invoice_id

),

-- Only cash needs a rate: a failed attempt moved no money.
converted as (

    select
        dated.*,
        case
            when dated.charge_status = 'succeeded'
                then {{ usd_rate(
                    'charge_rates.usd_per_unit', 'dated.currency', 'dated.charged_at',
                    "'charge ' || dated.charge_id",
                ) }}
        end as charge_usd_per_unit,
        case
            when dated.charge_status = 'succeeded' and dated.refunded_at is not null
                then {{ usd_rate(
                    'refund_rates.usd_per_unit', 'dated.currency', 'dated.refunded_at',
                    "'refund of charge ' || dated.charge_id",
                ) }}
        end as refund_usd_per_unit

    from dated
    left join rates as charge_rates
        on
            dated.currency = charge_rates.currency
            and {{ fx_month('dated.charged_at') }} = charge_rates.rate_month
    left join rates as refund_rates
        on
            dated.currency = refund_rates.currency
            and {{ fx_month('dated.refunded_at') }} = refund_rates.rate_month

),

final as (

    select
        charge_id,
        invoice_id,
        stripe_customer_id,
        currency,
        charge_status,
        charged_at,
        refunded_at,
        net_amount,
        charge_usd_per_unit,
        refund_usd_per_unit,
        cast(coalesce(round(amount * ex_tax_share * charge_usd_per_unit, 2), 0) as decimal(18, 2))
            as collected_usd,
        cast(
            coalesce(round(amount_refunded * ex_tax_share * refund_usd_per_unit, 2), 0)
            as decimal(18, 2)
        ) as refunded_usd,
        cast(coalesce(round(amount * charge_usd_per_unit, 2), 0) as decimal(18, 2))
            as collected_with_tax_usd,
        cast(coalesce(round(amount_refunded * refund_usd_per_unit, 2), 0) as decimal(18, 2))
            as refunded_with_tax_usd

    from converted

)

select * from final
