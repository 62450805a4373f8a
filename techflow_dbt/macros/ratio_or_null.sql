{#- numerator / denominator as a double, null where the denominator is not positive (a rate over
    an empty step, a return on no spend): one rule for every rate in the marts. -#}
{% macro ratio_or_null(numerator, denominator) -%}
    case
        when {{ denominator }} > 0 then cast({{ numerator }} as double precision) / {{ denominator }}
    end
{%- endmacro %}
