-- One row per Stripe charge (payment attempt): its latest version, money in decimal units of
-- the invoice's currency (usd in files landed before the column existed: `added_later`).
-- net_amount is what TechFlow kept: a succeeded charge's amount less refunds, 0 for failures.
with

source as (

    select * from {{ source('stripe', 'charges') }}

),

renamed as (

    select
        charge_id,
        invoice_id,
        customer_id as stripe_customer_id,
        {{ cents_to_dollars('amount') }} as amount,
        {{ cents_to_dollars('amount_refunded') }} as amount_refunded,
        lower(trim(coalesce(currency, 'usd'))) as currency,
        lower(trim(status)) as charge_status,
        failure_code,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

-- Re-landed identical copies collapse to one row, stamped with the newest landing.
distinct_versions as (

    select
        charge_id,
        invoice_id,
        stripe_customer_id,
        amount,
        amount_refunded,
        currency,
        charge_status,
        failure_code,
        created_at,
        updated_at,
        max(loaded_at) as loaded_at

    from renamed
    group by
        charge_id,
        invoice_id,
        stripe_customer_id,
        amount,
        amount_refunded,
        currency,
        charge_status,
        failure_code,
        created_at,
        updated_at

),

ranked_versions as (

    select
        *,
        rank() over (
            partition by charge_id order by updated_at desc nulls last
        ) as version_rank

    from distinct_versions

),

latest_version as (

    select *
    from ranked_versions
    where version_rank = 1

),

final as (

    select
        charge_id,
        invoice_id,
        stripe_customer_id,
        amount,
        amount_refunded,
        currency,
        case
            when charge_status = 'succeeded' then amount - amount_refunded
            else cast(0 as decimal(18, 2))
        end as net_amount,
        charge_status,
        failure_code,
        created_at,
        updated_at,
        loaded_at

    from latest_version

)

select * from final
