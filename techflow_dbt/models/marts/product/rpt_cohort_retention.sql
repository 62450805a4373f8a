-- Grain: one row per signup cohort (calendar month) and month since signup (0 = signup month).
-- Classic cohort retention: of the users who signed up in the cohort month, how many used the
-- product in each later month. Every cohort has a row for every month up to the newest month of
-- data, with zero active users where nobody came back, so curves have no holes. The newest month
-- is partial until it ends.
with

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

usage_cohorts as (

    select * from {{ ref('int_usage_cohorts') }}

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_size

    from user_acquisition
    group by cohort_month

),

calendar_months as (

    select cohort_month as calendar_month from cohorts
    union
    select activity_month as calendar_month from usage_cohorts

),

cohort_months as (

    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        calendar_months.calendar_month,
        {{ dbt.datediff('cohorts.cohort_month', 'calendar_months.calendar_month', 'month') }}
            as months_since_signup

    from cohorts
    inner join calendar_months
        on cohorts.cohort_month <= calendar_months.calendar_month

),

activity as (

    select
        cohort_month,
        months_since_signup,
        count(distinct user_id) as active_users,
        cast(sum(event_count) as bigint) as event_count

    from usage_cohorts
    group by cohort_month, months_since_signup

),

final as (

    select
        {{ generate_surrogate_key(
            ['cohort_months.cohort_month', 'cohort_months.months_since_signup']
        ) }} as cohort_retention_key,
        cohort_months.cohort_month,
        cohort_months.months_since_signup,
        cohort_months.calendar_month,
        cohort_months.cohort_size,
        coalesce(activity.active_users, 0) as active_users,
        cast(coalesce(activity.active_users, 0) as double precision) / cohort_months.cohort_size
            as retention_rate,
        coalesce(activity.event_count, 0) as event_count

    from cohort_months
    left join activity
        on
            cohort_months.cohort_month = activity.cohort_month
            and cohort_months.months_since_signup = activity.months_since_signup

)

select * from final
