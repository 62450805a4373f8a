{#
    Part `part_index` (0-based) of `amount` split evenly into `parts`, to the cent: every part
    gets the rounded share and the last one the remainder, so the parts sum exactly to the amount.
    Rounded with round_money: `parts` may be a double on some engines (a month count).

    Usage: {{ even_share('net_collected', 'service_months', 'month_offset') }}
#}
{% macro even_share(amount, parts, part_index) -%}
    case
        when {{ part_index }} < {{ parts }} - 1 then {{ round_money(amount ~ ' / ' ~ parts) }}
        else {{ amount }} - {{ round_money(amount ~ ' / ' ~ parts) }} * ({{ parts }} - 1)
    end
{%- endmacro %}
