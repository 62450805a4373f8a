{#
    Integer USD cents (as Stripe and the raw data store money) -> exact decimal dollars.
    Dividing as decimal (not float) keeps every cent exact; `scale` is the number of decimals kept.

    Usage: {{ cents_to_dollars('amount_paid') }} as amount_paid
#}
{% macro cents_to_dollars(column_name, scale=2) -%}
    cast(cast({{ column_name }} as decimal(18, {{ scale }})) / 100 as decimal(18, {{ scale }}))
{%- endmacro %}
