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
        max(cast(_loaded_at as timestamp)) as loaded_at

    from source
    group by all

),

final as (

    select *
    from renamed
    qualify rank() over (partition by invoice_id order by updated_at desc) = 1

)

select * from final
