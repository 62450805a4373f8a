{#
    The first raw partition (landed_date) an incremental build of int_subscription_versions
    re-reads: the newest landed day already in the table (re-read in case it was re-landed), or
    min_date (mrr_window_bound) when that is earlier (a Dagster partition rebuilt after a raw
    correction), and never after the as-of day.
    None when the table is empty or missing (read everything).
#}
{% macro subscription_versions_reload_from() -%}
    {%- if not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set reload_from = _newest_date_in(this, 'landed_date') -%}
    {%- if reload_from is none -%}
        {{ return(none) }}
    {%- endif -%}
    {#- Never after the as-of day: rows landed later (kept before the cap existed, or by a clock
        set back) are dropped by the pre-hook and not re-read. -#}
    {%- set reload_from = [reload_from, as_of_date()] | min -%}
    {%- set min_date_raw = mrr_window_bound('min_date') -%}
    {%- if min_date_raw -%}
        {%- set min_date = _mrr_parse_date(min_date_raw, 'min_date') -%}
        {%- set reload_from = [reload_from, min_date] | min -%}
    {%- endif -%}
    {{ return(reload_from.isoformat()) }}
{%- endmacro %}


{# Pre-hook: drop the partitions about to be re-read, in the same transaction as the insert. #}
{% macro subscription_versions_clear_reload() -%}
    {%- set reload_from = subscription_versions_reload_from() -%}
    {%- if reload_from -%}
        delete from {{ this }} where landed_date >= cast('{{ reload_from }}' as date)
    {%- endif -%}
{%- endmacro %}
