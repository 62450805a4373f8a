{#
    The current instant as a naive UTC timestamp, the convention of every raw timestamp here.
    DuckDB's now() is zone-aware and renders in the session's time zone; comparing it with naive
    UTC columns would silently shift by the machine's offset.
#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    {{ dbt.current_timestamp_in_utc_backcompat() }}
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}
