-- Grain: one row per month and marketing channel with visits or signups. The acquisition funnel
-- visit -> signup -> activation -> trial -> paying. Visits are the sessions that started in the
-- month through the channel (every visitor, most of whom never sign up); the later steps follow
-- the month's signup cohort (first-touch channel): how many activated a workspace, started a
-- trial, and have become paying so far. A user can buy without a trial, so paying customers are
-- a subset of the activated, not of the trials. Recent cohorts have had less time to convert.
with

campaign_attribution as (

    select * from {{ ref('int_campaign_attribution') }}

),

customer_acquisition as (

    select * from {{ ref('fct_customer_acquisition') }}

),

monthly_visits as (

    select
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as report_month,
        channel,
        cast(sum(visits) as bigint) as visits

    from campaign_attribution
    group by {{ dbt.date_trunc('month', 'activity_date') }}, channel

),

monthly_cohorts as (

    select
        acquisition_month as report_month,
        channel,
        count(*) as signups,
        count(case when is_activated then 1 end) as activated,
        count(case when has_started_trial then 1 end) as trials,
        count(case when is_paying_customer then 1 end) as paying_customers

    from customer_acquisition
    group by acquisition_month, channel

),

combined as (

    select
        coalesce(monthly_visits.report_month, monthly_cohorts.report_month) as report_month,
        coalesce(monthly_visits.channel, monthly_cohorts.channel) as channel,
        coalesce(monthly_visits.visits, 0) as visits,
        coalesce(monthly_cohorts.signups, 0) as signups,
        coalesce(monthly_cohorts.activated, 0) as activated,
        coalesce(monthly_cohorts.trials, 0) as trials,
        coalesce(monthly_cohorts.paying_customers, 0) as paying_customers

    from monthly_visits
    full outer join monthly_cohorts
        on
            monthly_visits.report_month = monthly_cohorts.report_month
            and monthly_visits.channel = monthly_cohorts.channel

),

final as (

    select
        {{ generate_surrogate_key(['report_month', 'channel']) }} as marketing_funnel_id,
        report_month,
        channel,
        visits,
        signups,
        activated,
        trials,
        paying_customers,
        -- Each rate is over the step before it; null where that step is zero.
        {{ ratio_or_null('signups', 'visits') }} as visit_to_signup_rate,
        {{ ratio_or_null('activated', 'signups') }} as signup_to_activation_rate,
        {{ ratio_or_null('trials', 'activated') }} as activation_to_trial_rate,
        {{ ratio_or_null('paying_customers', 'activated') }} as activation_to_paid_rate,
        {{ ratio_or_null('paying_customers', 'signups') }} as signup_to_paid_rate

    from combined

)

select * from final
