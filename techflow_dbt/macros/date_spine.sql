{#
    One row per calendar day from start_date to end_date, both inclusive, as a `date_day` DATE
    column, with no gaps. A thin wrapper over dbt.date_spine, whose end is exclusive and whose
    output type varies by adapter (DuckDB returns timestamps).

    start_date and end_date are SQL expressions that must be evaluable without a ref (dbt.date_spine
    runs a query at compile time to count the days), e.g. "cast('2025-06-01' as date)".
    Returns no rows when end_date < start_date.

    Usage: select date_day from ({{ date_spine_days(start_expr, end_expr) }}) as spine
#}
{% macro date_spine_days(start_date, end_date) -%}
    select cast(spine.date_day as date) as date_day
    from (
        {{ dbt.date_spine('day', start_date, dbt.dateadd('day', 1, end_date)) }}
    ) as spine
    where cast(spine.date_day as date) <= cast({{ end_date }} as date)
{%- endmacro %}
