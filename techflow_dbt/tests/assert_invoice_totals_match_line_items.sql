-- Invoices are the sum of their line items (proration): every invoice's subtotal equals
-- the sum of its lines (plan lines and proration credits, excluding tax), every invoice has lines
-- and every line's currency is its invoice's. Returns each invoice that does not add up.
with

lines as (

    select
        invoice_id,
        sum(amount) as lines_amount,
        count(*) as n_lines,
        min(currency) as min_currency,
        max(currency) as max_currency
    from {{ ref('stg_stripe__invoice_line_items') }}
    group by invoice_id

)

select
    invoices.invoice_id,
    invoices.subtotal,
    lines.lines_amount,
    invoices.currency,
    lines.min_currency,
    lines.max_currency
from {{ ref('stg_stripe__invoices') }} as invoices
left join lines on invoices.invoice_id = lines.invoice_id
where
    lines.invoice_id is null
    or lines.lines_amount != invoices.subtotal
    or lines.min_currency != invoices.currency
    or lines.max_currency != invoices.currency
