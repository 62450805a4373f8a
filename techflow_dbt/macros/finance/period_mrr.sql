{#
    MRR of one subscription period in decimal dollars (models/METRICS.md, "MRR and ARR"): plan
    price per billing period / months in the period x seats. Rounded to the cent once per period
    (cents are the smallest unit billed), computed in integers until then so nothing drifts.
#}
{% macro period_mrr(price_per_period_cents, billing_months, quantity) -%}
    cast(
        round(
            cast({{ price_per_period_cents }} as decimal(18, 4)) * {{ quantity }} / {{ billing_months }}
        ) / 100
        as decimal(18, 2)
    )
{%- endmacro %}
