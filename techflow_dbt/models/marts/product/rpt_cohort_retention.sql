-- Grain: one row per signup cohort (calendar month) and month since signup (0 = signup month).
-- Classic cohort retention: of the accounts that signed up in the cohort month, how many were
-- active (any of their people used the product) in each later month — fct_cohort_activity_monthly
-- counted up, so every cohort has a row for every month through the as-of month with zero active
-- accounts where nobody came back, and its size is counted once. The as-of month is partial
-- until it ends (is_complete_month).
with

cohort_activity as (

    select * from {{ ref('fct_cohort_activity_monthly') }}

),

final as (

    select
        {{ generate_surrogate_key(['cohort_month', 'months_since_signup']) }}
            as cohort_retention_key,
        cohort_month,
        months_since_signup,
        activity_month as calendar_month,
        is_complete_month,
        count(*) as cohort_size,
        count(case when is_active then 1 end) as active_users,
        cast(count(case when is_active then 1 end) as double precision) / count(*)
            as retention_rate,
        cast(sum(event_count) as bigint) as event_count

    from cohort_activity
    group by cohort_month, months_since_signup, activity_month, is_complete_month

)

select * from final
