{#
    An invoice-currency amount (tax included, as charged) -> USD revenue excluding tax, to the
    cent, with the invoice's int_invoice_conversion row. One macro so fct_revenue and
    the reconciliation test convert the same way.

    Usage: {{ to_usd_revenue('charges.net_amount', 'conversion') }}
#}
{% macro to_usd_revenue(amount, conversion) -%}
    cast(round(
        {{ amount }} * {{ conversion }}.ex_tax_share * {{ conversion }}.usd_per_unit, 2
    ) as decimal(18, 2))
{%- endmacro %}
