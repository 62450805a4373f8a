-- The MRR step changes behind fct_mrr_daily: one row per customer x product x day on which
-- some period starts or stops counting. A period adds its MRR and seats on paid_start_date and
-- removes them on ended_date; a period that ends on or before its paid start (a trial canceled
-- before converting) never counts. Summing changes up to day D gives the MRR of D.
--
-- Each period is read at its newest version (mrr_subscription_versions: the warehouse copy of
-- every landed version, plus the raw partitions landed after it; raw alone on a full build), so a
-- late or corrected version is applied whenever it landed. Only changes inside the build window
-- (mrr_daily_window) are kept.
{%- set window = mrr_daily_window() %}

with

versions as (

    {{ mrr_subscription_versions(window.versions_cutoff) }}

),

-- The newest version of each period. Conflicting versions (same updated_at, different content)
-- never get here: the test on int_subscription_versions stops the build first.
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
        -- A left join: an unknown plan leaves product null, which fct_mrr_daily's contract
        -- (product not null) refuses, so the build fails instead of dropping revenue.
        plans.product,
        latest_version.quantity,
        {{ period_mrr(
            'plans.price_per_period_cents', 'plans.billing_months', 'latest_version.quantity'
        ) }} as mrr,
        latest_version.paid_start_date,
        latest_version.ended_date

    from latest_version
    inner join users on latest_version.customer_id = users.user_id
    left join plans on latest_version.plan_id = plans.plan_id

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
