-- One row per Stripe invoice line item (proration). Money in decimal units of the
-- invoice's currency, excluding tax; a proration credit is negative. Lines never change, but an
-- extract may land one twice: keep one row per line_item_id.
with

source as (

    select * from {{ source('stripe', 'invoice_line_items') }}

),

renamed as (

    select
        line_item_id,
        invoice_id,
        cast(subscription_id as bigint) as subscription_id,
        plan_id,
        cast(quantity as integer) as quantity,
        {{ cents_to_dollars('amount') }} as amount,
        lower(trim(currency)) as currency,
        proration as is_proration,
        amount < 0 as is_credit,
        cast(period_start as timestamp) as period_start_at,
        cast(period_end as timestamp) as period_end_at,
        cast(created_at as timestamp) as created_at,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

-- A line landed twice collapses to one row, stamped with the newest landing.
distinct_lines as (

    select
        line_item_id,
        invoice_id,
        subscription_id,
        plan_id,
        quantity,
        amount,
        currency,
        is_proration,
        is_credit,
        period_start_at,
        period_end_at,
        created_at,
        max(loaded_at) as loaded_at

    from renamed
    group by
        line_item_id,
        invoice_id,
        subscription_id,
        plan_id,
        quantity,
        amount,
        currency,
        is_proration,
        is_credit,
        period_start_at,
        period_end_at,
        created_at

)

select * from distinct_lines
