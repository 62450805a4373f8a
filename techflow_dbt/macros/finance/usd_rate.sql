{#
    USD per unit of `currency` for money dated `day` (METRICS.md, "Money and FX"): the fx_rates
    seed's rate of the day's month, joined by the caller as `rate` (a column, null when the seed
    has no row for that currency and month); 1 for usd. A currency or month the seed does not
    cover stops the model with an error naming the currency, the day and `what` (a SQL string
    expression saying which record, e.g. "'charge ' || charge_id"): never a nearest rate.

    Usage: {{ usd_rate('charge_rates.usd_per_unit', 'charges.currency', 'charges.created_at',
                       "'charge ' || charges.charge_id") }}
#}
{% macro usd_rate(rate, currency, day, what) -%}
    case
        when {{ currency }} = 'usd' then cast(1 as decimal(12, 6))
        when {{ rate }} is not null then cast({{ rate }} as decimal(12, 6))
        else cast({{ raise_in_sql(
            what ~ " || ': no fx_rates rate for ' || upper(" ~ currency ~ ") || ' on '"
            ~ " || cast(cast(" ~ day ~ " as date) as " ~ dbt.type_string() ~ ")"
            ~ " || '; add that month to techflow_dbt/seeds/fx_rates.csv'"
        ) }} as decimal(12, 6))
    end
{%- endmacro %}


{# The fx_rates month a date or timestamp falls in (the seed has one rate per currency and
   calendar month). #}
{% macro fx_month(day) -%}
    cast({{ dbt.date_trunc('month', day) }} as date)
{%- endmacro %}
