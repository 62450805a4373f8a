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
    -- A partition dated after the as-of day has not landed by the platform's clock.
    where
        landed_date <= {{ as_of_day() }}
        {%- if cutoff %}
        and landed_date > cast('{{ cutoff }}' as date)

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



{#
    Every subscription period as MRR reads it, at its newest version among
    mrr_subscription_versions(cutoff): one row per period of a (non-QA) customer with the inputs
    of its MRR step changes. int_daily_mrr_changes turns these into steps; fct_mrr_daily records
    them after each build (mrr_daily_record_applied_periods) and compares the next build's with
    them (mrr_daily_earliest_change). Conflicting versions (same updated_at, different content)
    never get here: the test on int_subscription_versions stops the build first.
#}
{% macro mrr_current_periods(cutoff) -%}
    {%- set plans = ref('plan_catalog') -%}
    {%- set users = ref('stg_app_db__users') -%}
    select
        latest_version.subscription_id,
        latest_version.customer_id,
        -- A left join: an unknown plan leaves product null, which fct_mrr_daily's contract
        -- (product not null) refuses, so the build fails instead of dropping revenue.
        plans.product,
        latest_version.quantity,
        {{ period_mrr(
            'plans.price_per_period_cents', 'plans.billing_months', 'latest_version.quantity'
        ) }} as mrr,
        latest_version.paid_start_date,
        latest_version.ended_date
    from (
        select *
        from (
            select
                versions.*,
                row_number() over (
                    partition by subscription_id
                    order by updated_at desc nulls last, loaded_at desc nulls last
                ) as newest_first
            from ({{ mrr_subscription_versions(cutoff) }}) as versions
        ) as numbered_versions
        where newest_first = 1
    ) as latest_version
    left join {{ plans }} as plans on latest_version.plan_id = plans.plan_id
    -- Customers are app users that are not internal QA accounts (stg_app_db__users drops those).
    -- A semi-join, not a join: two conflicting versions of one user (which the users' unique
    -- test reports) must not turn one period into two and double the customer's MRR.
    where latest_version.customer_id in (select users.user_id from {{ users }} as users)
{%- endmacro %}


{# Where fct_mrr_daily records the periods it was last built from: fct_mrr_daily__applied_periods
   in fct_mrr_daily's database (a slim CI build writes its own) but the versions copy's schema
   (intermediate: bookkeeping, not a mart). #}
{% macro mrr_applied_periods_relation() -%}
    {%- set versions = ref('int_subscription_versions') -%}
    {{ return(api.Relation.create(
        database=this.database,
        schema=versions.schema,
        identifier='fct_mrr_daily__applied_periods',
        type='table',
    )) }}
{%- endmacro %}


{#
    Post-hook of fct_mrr_daily, in the model's transaction: record the periods this build's rows
    are a function of (every period, as mrr_current_periods read them), so the next build can tell
    exactly which days any later change — a late row, a correction, a re-landed or removed raw
    row, a user turned QA, a plan price — makes stale.
#}
{% macro mrr_daily_record_applied_periods() -%}
    {%- set window = mrr_daily_window(incremental=is_incremental(), check_changes=false) -%}
    {%- set applied = mrr_applied_periods_relation() -%}
    {%- do adapter.create_schema(applied) -%}
    create or replace table {{ applied }} as
    {{ mrr_current_periods(window.versions_cutoff) }}
{%- endmacro %}
