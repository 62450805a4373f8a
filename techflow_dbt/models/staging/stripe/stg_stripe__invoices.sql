-- One row per Stripe invoice (one per billing cycle of a subscription, plus voided drafts): its
-- latest version, money in decimal units of the invoice's currency (the marts convert to USD).
-- Files landed before subtotal/tax/total existed (`added_later` in the raw contract; the source
-- reads files by column name, so there they are null) read as untaxed: subtotal = total =
-- amount_due. Two different versions with the same updated_at are both kept so the unique test
-- on invoice_id fails instead of picking one.
with

source as (

    select * from {{ source('stripe', 'invoices') }}

),

renamed as (

    select
        invoice_id,
        customer_id as stripe_customer_id,
        cast(subscription_id as bigint) as subscription_id,
        cast(period_start as timestamp) as period_start_at,
        cast(period_end as timestamp) as period_end_at,
        {{ cents_to_dollars('amount_due') }} as amount_due,
        {{ cents_to_dollars('amount_paid') }} as amount_paid,
        {{ cents_to_dollars('coalesce(subtotal, amount_due)') }} as subtotal,
        {{ cents_to_dollars('coalesce(tax, 0)') }} as tax,
        {{ cents_to_dollars('coalesce(total, amount_due)') }} as total,
        lower(trim(currency)) as currency,
        lower(trim(status)) as invoice_status,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

-- Re-landed identical copies collapse to one row, stamped with the newest landing.
distinct_versions as (

    select
        invoice_id,
        stripe_customer_id,
        subscription_id,
        period_start_at,
        period_end_at,
        amount_due,
        amount_paid,
        subtotal,
        tax,
        total,
        currency,
        invoice_status,
        created_at,
        updated_at,
        max(loaded_at) as loaded_at

    from renamed
    group by
        invoice_id,
        stripe_customer_id,
        subscription_id,
        period_start_at,
        period_end_at,
        amount_due,
        amount_paid,
        subtotal,
        tax,
        total,
        currency,
        invoice_status,
        created_at,
        updated_at

),

ranked_versions as (

    select
        *,
        rank() over (
            partition by invoice_id order by updated_at desc nulls last
        ) as version_rank

    from distinct_versions

),

final as (

    select
        invoice_id,
        stripe_customer_id,
        subscription_id,
        period_start_at,
        period_end_at,
        amount_due,
        amount_paid,
        subtotal,
        tax,
        total,
        currency,
        invoice_status,
        created_at,
        updated_at,
        loaded_at

    from ranked_versions
    where version_rank = 1

)

select * from final
