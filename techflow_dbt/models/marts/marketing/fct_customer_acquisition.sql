-- Grain: one row per real app user: the acquisition event (signup) with its first-touch channel
-- and campaign (and the last non-direct touch, which often differs), how long the journey took,
-- the funnel after signup (activation, trial, paying) and the revenue collected from the user so
-- far (the numerator of marketing ROI).
with

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

mrr_daily as (

    select * from {{ ref('fct_mrr_daily') }}

),

revenue_attribution as (

    select * from {{ ref('int_revenue_attribution') }}

),

user_funnel as (

    select * from {{ ref('int_user_funnel') }}

),

first_paid as (

    select
        customer_id,
        min(date_day) as first_paid_date

    from mrr_daily
    where mrr > 0
    group by customer_id

),

revenue_to_date as (

    select
        customer_id,
        sum(net_revenue_usd) as net_revenue_usd

    from revenue_attribution
    group by customer_id

),

final as (

    select
        {{ generate_surrogate_key(['user_acquisition.user_id']) }} as customer_acquisition_id,
        users.user_key,
        user_acquisition.user_id,
        campaigns.campaign_key,
        user_acquisition.channel,
        user_acquisition.campaign,
        user_acquisition.utm_source,
        user_acquisition.utm_medium,
        user_acquisition.signup_at,
        user_acquisition.signup_date,
        user_acquisition.cohort_month as acquisition_month,
        user_acquisition.first_touch_at,
        {{ dbt.datediff('user_acquisition.first_touch_at', 'user_acquisition.signup_at', 'day') }}
            as days_first_touch_to_signup,
        user_acquisition.touches_before_signup,
        user_acquisition.last_touch_channel,
        user_acquisition.last_touch_campaign,
        user_acquisition.last_touch_at,
        user_acquisition.channel <> user_acquisition.last_touch_channel
            as is_last_touch_channel_different,
        user_funnel.activated_at,
        user_funnel.activated_at is not null as is_activated,
        {{ dbt.datediff('user_acquisition.signup_at', 'user_funnel.activated_at', 'hour') }}
            as hours_signup_to_activation,
        user_funnel.trial_started_at,
        user_funnel.trial_started_at is not null as has_started_trial,
        first_paid.first_paid_date,
        first_paid.first_paid_date is not null as is_paying_customer,
        {{ dbt.datediff('user_acquisition.signup_date', 'first_paid.first_paid_date', 'day') }}
            as days_signup_to_paid,
        cast(coalesce(revenue_to_date.net_revenue_usd, 0) as decimal(18, 2))
            as net_revenue_to_date_usd

    from user_acquisition
    inner join users
        on user_acquisition.user_id = users.user_id
    inner join campaigns
        on
            user_acquisition.channel = campaigns.channel
            and user_acquisition.campaign = campaigns.campaign
    left join first_paid
        on user_acquisition.user_id = first_paid.customer_id
    left join revenue_to_date
        on user_acquisition.user_id = revenue_to_date.customer_id
    left join user_funnel
        on user_acquisition.user_id = user_funnel.user_id

)

select * from final
