-- One row per subscription period with its plan: the inputs of its MRR (price per period in
-- cents, billing months, seats), which the marts turn into MRR with the period_mrr macro.
-- paid_start_date / ended_date turn the business rule into a half-open date range: the period
-- counts toward MRR on day D when paid_start_date <= D < ended_date (ended_date null = open).
-- A left join keeps periods with an unknown plan_id visible (product null) to the tests downstream;
-- the relationships test on stg_app_db__subscriptions.plan_id stops the build before they matter.
-- The semi-join to stg_app_db__users drops internal QA accounts' periods (that model drops the
-- accounts) and keeps one row per period even when a user has two conflicting versions (the
-- users' unique test reports those; a join would duplicate the period and its MRR); orphans
-- cannot hide here: stg_app_db__subscriptions.customer_id is tested against the raw users source.
with

subscriptions as (

    select * from {{ ref('stg_app_db__subscriptions') }}

),

plans as (

    select * from {{ ref('plan_catalog') }}

),

users as (

    select * from {{ ref('stg_app_db__users') }}

),

joined as (

    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.plan_id,
        plans.product,
        plans.tier,
        plans.billing_period,
        plans.billing_months,
        subscriptions.quantity,
        plans.price_per_period_cents,
        subscriptions.status,
        subscriptions.had_trial,
        subscriptions.trial_ends_at,
        subscriptions.started_at,
        subscriptions.paid_start_at,
        subscriptions.ended_at,
        cast(subscriptions.paid_start_at as date) as paid_start_date,
        cast(subscriptions.ended_at as date) as ended_date,
        subscriptions.ended_reason,
        subscriptions.previous_subscription_id,
        subscriptions.created_at,
        subscriptions.updated_at

    from subscriptions
    left join plans on subscriptions.plan_id = plans.plan_id
    where subscriptions.customer_id in (select users.user_id from users)

)

select * from joined
