-- The fx_rates seed, typed: one row per calendar month and currency with the USD one unit of it
-- was worth that month. Every conversion in the warehouse joins it on (currency, month of the
-- money's own date) through macro usd_rate, which refuses a month the seed does not cover.
with

rates as (

    select * from {{ ref('fx_rates') }}

),

final as (

    select
        cast(rate_month as date) as rate_month,
        lower(trim(currency)) as currency,
        cast(usd_per_unit as decimal(12, 6)) as usd_per_unit

    from rates

)

select * from final
