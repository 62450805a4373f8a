-- Signup cohorts, month by month (METRICS.md, "Cohort retention"). Grain: one row per signup
-- (account owner) and calendar month from the signup month through the as-of month: whether the
-- account was active that month (any of its people — the owner or an invited teammate — had a
-- usage event). Every member has a row for every month since signup, active or not, so a cohort
-- is counted once per month and its size is the same in every month since signup; the retention
-- rate (active members / members) can never exceed 1. The as-of month is partial
-- (is_complete_month false) and the metrics leave it out.
with

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

usage_cohorts as (

    select * from {{ ref('int_usage_cohorts') }}

),

calendar as (

    {{ calendar_months() }}

),

member_months as (

    select
        user_acquisition.user_id,
        user_acquisition.cohort_month,
        calendar.calendar_month as activity_month,
        {{ months_between('user_acquisition.cohort_month', 'calendar.calendar_month') }}
            as months_since_signup,
        calendar.is_complete_month

    from user_acquisition
    inner join calendar on user_acquisition.cohort_month <= calendar.calendar_month

),

final as (

    select
        {{ generate_surrogate_key(['member_months.user_id', 'member_months.activity_month']) }}
            as cohort_activity_id,
        member_months.user_id,
        member_months.cohort_month,
        member_months.activity_month,
        member_months.months_since_signup,
        member_months.is_complete_month,
        usage_cohorts.user_id is not null as is_active,
        coalesce(usage_cohorts.active_days, 0) as active_days,
        coalesce(usage_cohorts.event_count, 0) as event_count

    from member_months
    left join usage_cohorts
        on
            member_months.user_id = usage_cohorts.user_id
            and member_months.activity_month = usage_cohorts.activity_month

)

select * from final
