-- One row per day, channel and campaign that had ad spend, visits or signups: what was spent,
-- the visits (sessions) it brought to the site, how many of those visits were a signup's first
-- touch (signup_visits, dated by the visit: the visit cohort's conversions), and the users it
-- acquired that day under three attribution models (first touch, last non-direct touch, linear;
-- int_user_touches; dated by the signup). Stacked and summed rather than joined, because
-- campaigns spend on days without signups, visits come from unpaid channels and signups land
-- days after the visit that earned them.
with

ad_spend as (

    select * from {{ ref('stg_marketing__ad_spend') }}

),

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

user_touches as (

    select * from {{ ref('int_user_touches') }}

),

sessions as (

    select * from {{ ref('int_touch_sessions') }}

),

daily_spend as (

    select
        spend_date as activity_date,
        channel,
        campaign,
        impressions,
        clicks,
        spend_usd,
        0 as visits,
        0 as signup_visits,
        0 as signups,
        0 as last_touch_signups,
        0 as linear_signups

    from ad_spend

),

daily_visits as (

    select
        session_date as activity_date,
        channel,
        campaign,
        0 as impressions,
        0 as clicks,
        0 as spend_usd,
        1 as visits,
        0 as signup_visits,
        0 as signups,
        0 as last_touch_signups,
        0 as linear_signups

    from sessions

),

-- A visit that was some signup's first touch, on the visit's day: every one is also a visit of
-- daily_visits (the same session), so signup visits / visits is a rate of at most 1.
signup_visits as (

    select
        cast(user_touches.session_started_at as date) as activity_date,
        user_touches.channel,
        user_touches.campaign,
        0 as impressions,
        0 as clicks,
        0 as spend_usd,
        0 as visits,
        count(distinct user_touches.session_id) as signup_visits,
        0 as signups,
        0 as last_touch_signups,
        0 as linear_signups

    from user_touches
    -- Signups are account owners (int_user_acquisition).
    inner join user_acquisition on user_touches.user_id = user_acquisition.user_id
    where user_touches.is_first_touch
    group by
        cast(user_touches.session_started_at as date),
        user_touches.channel,
        user_touches.campaign

),

-- Credit goes to the signup day: each user's first-touch, last-touch and linear credits sum to 1.
first_touch_signups as (

    select
        signup_date as activity_date,
        channel,
        campaign,
        0 as impressions,
        0 as clicks,
        0 as spend_usd,
        0 as visits,
        0 as signup_visits,
        1 as signups,
        0 as last_touch_signups,
        0 as linear_signups

    from user_acquisition

),

last_touch_signups as (

    select
        signup_date as activity_date,
        last_touch_channel as channel,
        last_touch_campaign as campaign,
        0 as impressions,
        0 as clicks,
        0 as spend_usd,
        0 as visits,
        0 as signup_visits,
        0 as signups,
        1 as last_touch_signups,
        0 as linear_signups

    from user_acquisition

),

-- Users without a tracked touch have no touch row: linear credits them to direct, as first touch.
linear_signups as (

    select
        user_acquisition.signup_date as activity_date,
        coalesce(user_touches.channel, 'direct') as channel,
        coalesce(user_touches.campaign, '(none)') as campaign,
        0 as impressions,
        0 as clicks,
        0 as spend_usd,
        0 as visits,
        0 as signup_visits,
        0 as signups,
        0 as last_touch_signups,
        coalesce(user_touches.linear_credit, 1) as linear_signups

    from user_acquisition
    left join user_touches
        on user_acquisition.user_id = user_touches.user_id

),

stacked as (

    select * from daily_spend
    union all
    select * from daily_visits
    union all
    select * from signup_visits
    union all
    select * from first_touch_signups
    union all
    select * from last_touch_signups
    union all
    select * from linear_signups

),

final as (

    select
        activity_date,
        channel,
        campaign,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(spend_usd) as decimal(18, 2)) as spend_usd,
        cast(sum(visits) as bigint) as visits,
        cast(sum(signup_visits) as bigint) as signup_visits,
        cast(sum(signups) as bigint) as signups,
        cast(sum(last_touch_signups) as bigint) as last_touch_signups,
        cast(sum(linear_signups) as decimal(18, 6)) as linear_signups

    from stacked
    group by activity_date, channel, campaign

)

select * from final
