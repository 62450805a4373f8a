-- A charge pays its invoice in the invoice's currency (Stripe charges the invoice's currency; a
-- charge in another one would be converted at the wrong rate and break every USD figure). The
-- generator and Stripe agree; a corrupt extract or a connector bug would not. Returns every
-- charge whose currency differs from its invoice's, naming both.
with

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

)

select
    charges.charge_id,
    charges.invoice_id,
    charges.currency as charge_currency,
    invoices.currency as invoice_currency
from charges
inner join invoices on charges.invoice_id = invoices.invoice_id
where charges.currency != invoices.currency
