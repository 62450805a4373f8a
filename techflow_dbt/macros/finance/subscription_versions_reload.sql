{#
    The first raw partition (landed_date) an incremental build of int_subscription_versions
    re-reads: the newest landed day already in the table (re-read in case it was re-landed), or
    var min_date when that is earlier (a Dagster partition rebuilt after a raw correction).
    None when the table is empty or missing (read everything).
#}
{% macro subscription_versions_reload_from() -%}
    {%- if not execute or not is_incremental() or this is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select cast(max(landed_date) as varchar) from " ~ this) -%}
    {%- set newest = result.columns[0].values()[0] if result else none -%}
    {%- if not newest -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set reload_from = modules.datetime.date.fromisoformat(newest) -%}
    {%- if var('min_date', none) -%}
        {%- set min_date = _mrr_parse_date(var('min_date'), 'var min_date') -%}
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
