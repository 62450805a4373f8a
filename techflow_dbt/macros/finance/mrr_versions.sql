{#
    The subscription versions one build of fct_mrr_daily reads, as a select of
    subscription_version_columns(): the warehouse copy (int_subscription_versions) for everything
    landed on or before `cutoff`, the raw partitions (stg_app_db__subscription_versions, pruned by
    landed_date) after it. cutoff None reads the raw data alone (a full build).

    The raw branch makes fct_mrr_daily correct whatever state the copy is in: a copy that lags
    (int_subscription_versions not rebuilt with the last partitions, e.g. fct_mrr_daily
    materialized alone from the UI) only means more raw partitions are read.
#}
{% macro mrr_subscription_versions(cutoff) -%}
    {%- set raw_versions = ref('stg_app_db__subscription_versions') -%}
    {%- set kept_versions = ref('int_subscription_versions') -%}
    select {{ subscription_version_columns() }}
    from {{ raw_versions }}
    {%- if cutoff %}
    where landed_date > cast('{{ cutoff }}' as date)

    union all

    select {{ subscription_version_columns() }}
    from {{ kept_versions }}
    where landed_date <= cast('{{ cutoff }}' as date)
    {%- endif %}
{%- endmacro %}


{# The columns of a subscription version as fct_mrr_daily reads it, from the staging view or the
   warehouse copy (which stores exactly these). #}
{% macro subscription_version_columns() -%}
    subscription_id,
    customer_id,
    plan_id,
    quantity,
    status,
    trial_ends_at,
    started_at,
    cast(coalesce(trial_ends_at, started_at) as date) as paid_start_date,
    ended_at,
    cast(ended_at as date) as ended_date,
    ended_reason,
    previous_subscription_id,
    created_at,
    updated_at,
    loaded_at,
    landed_date
{%- endmacro %}


{# The newest landed day in the warehouse copy of the versions; None when missing or empty. #}
{% macro _subscription_versions_newest_landed(relation) -%}
    {%- if not execute or relation is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select cast(max(landed_date) as varchar) from " ~ relation) -%}
    {%- set newest = result.columns[0].values()[0] if result else none -%}
    {{ return(modules.datetime.date.fromisoformat(newest) if newest else none) }}
{%- endmacro %}
