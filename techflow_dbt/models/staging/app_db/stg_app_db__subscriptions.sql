-- One row per subscription period: its latest version. Re-landed identical copies collapse;
-- two *different* versions with the same updated_at are both kept, so the unique test on
-- subscription_id fails loudly instead of silently picking one.
-- paid_start_at is when the period starts counting toward MRR: the trial's end, or its start
-- when it had no trial (models/METRICS.md, "Paid start").
-- Documented exception (dbt-project-evaluator: staging depends on staging):
-- stg_app_db__subscription_versions is this model's base layer (every version, deduplicated);
-- this model keeps the latest version per key. It reads no other source or seed.
with

versions as (

    select * from {{ ref('stg_app_db__subscription_versions') }}

),

distinct_versions as (

    select
        subscription_id,
        customer_id,
        plan_id,
        quantity,
        status,
        trial_ends_at,
        started_at,
        ended_at,
        ended_reason,
        previous_subscription_id,
        created_at,
        updated_at,
        max(loaded_at) as loaded_at

    from versions
    group by
        subscription_id,
        customer_id,
        plan_id,
        quantity,
        status,
        trial_ends_at,
        started_at,
        ended_at,
        ended_reason,
        previous_subscription_id,
        created_at,
        updated_at

),

ranked_versions as (

    select
        *,
        rank() over (
            partition by subscription_id order by updated_at desc nulls last
        ) as version_rank

    from distinct_versions

),

latest_version as (

    select *
    from ranked_versions
    where version_rank = 1

),

final as (

    select
        subscription_id,
        customer_id,
        plan_id,
        quantity,
        status,
        trial_ends_at,
        started_at,
        coalesce(trial_ends_at, started_at) as paid_start_at,
        ended_at,
        ended_reason,
        previous_subscription_id,
        trial_ends_at is not null as had_trial,
        created_at,
        updated_at,
        loaded_at

    from latest_version

)

select * from final
