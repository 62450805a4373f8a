-- One row per signup (account owner) and calendar month in which the account was active (any of
-- its people, owner or invited teammate, had a usage event), with the signup cohort month and the
-- month's distance from it. The basis of cohort retention: month 0 is the signup month; an
-- account whose owner went quiet while the team kept working is retained.
with

engagement_daily as (

    select * from {{ ref('int_user_engagement_daily') }}

),

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

monthly_activity as (

    select
        customer_id as user_id,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month,
        count(distinct activity_date) as active_days,
        cast(sum(event_count) as bigint) as event_count

    from engagement_daily
    group by customer_id, {{ dbt.date_trunc('month', 'activity_date') }}

),

final as (

    select
        monthly_activity.user_id,
        user_acquisition.cohort_month,
        monthly_activity.activity_month,
        {{ months_between(
            'user_acquisition.cohort_month', 'monthly_activity.activity_month'
        ) }} as months_since_signup,
        monthly_activity.active_days,
        monthly_activity.event_count

    from monthly_activity
    -- Inner join: activity of users that are not real users (test accounts) has no cohort.
    inner join user_acquisition
        on monthly_activity.user_id = user_acquisition.user_id
    -- Guard against clock skew: activity logged before the signup month is not retention.
    where monthly_activity.activity_month >= user_acquisition.cohort_month

)

select * from final
