-- The MRR step changes behind fct_mrr_daily: one row per customer x product x day on which
-- some period starts or stops counting. A period adds its MRR and seats on paid_start_date and
-- removes them on ended_date; a period that ends on or before its paid start (a trial canceled
-- before converting) never counts. Summing changes up to day D gives the MRR of D.
--
-- On an incremental build of fct_mrr_daily this reads only the raw partitions that can hold a
-- change inside the build window (mrr_daily_window().landed_from): the landed_date filter sits
-- directly on the Parquet scan, before any dedup, so DuckDB prunes the older hive partitions.
{%- set window = mrr_daily_window() %}

with

versions as (

    select * from {{ ref('stg_app_db__subscription_versions') }}
    {%- if window.landed_from %}
    where landed_date >= cast('{{ window.landed_from }}' as date)
    {%- endif %}

),

-- Latest version of each period among the partitions read. Period dates other than ended_at
-- never change, so for changes inside the window this equals the globally latest version.
latest_version as (

    select *
    from versions
    qualify row_number() over (
        partition by subscription_id
        order by updated_at desc, loaded_at desc
    ) = 1

),

plans as (

    select * from {{ ref('plan_catalog') }}

),

-- Customers are app users that are not internal QA accounts (stg_app_db__users drops those).
users as (

    select user_id from {{ ref('stg_app_db__users') }}

),

periods as (

    select
        latest_version.subscription_id,
        latest_version.customer_id,
        plans.product,
        latest_version.quantity,
        {{ period_mrr(
            'plans.price_per_period_cents', 'plans.billing_months', 'latest_version.quantity'
        ) }} as mrr,
        cast(coalesce(latest_version.trial_ends_at, latest_version.started_at) as date)
            as paid_start_date,
        cast(latest_version.ended_at as date) as ended_date

    from latest_version
    inner join plans on latest_version.plan_id = plans.plan_id
    inner join users on latest_version.customer_id = users.user_id

),

paid_periods as (

    select *
    from periods
    where ended_date is null or ended_date > paid_start_date

),

steps as (

    select
        customer_id,
        product,
        paid_start_date as change_date,
        mrr as mrr_change,
        quantity as seats_change
    from paid_periods

    union all

    select
        customer_id,
        product,
        ended_date as change_date,
        -mrr as mrr_change,
        -quantity as seats_change
    from paid_periods
    where ended_date is not null

),

final as (

    select
        customer_id,
        product,
        change_date,
        sum(mrr_change) as mrr_change,
        sum(seats_change) as seats_change

    from steps
    where change_date <= cast('{{ window.end }}' as date)
    group by customer_id, product, change_date

)

select * from final
