-- One row per day, channel and campaign that had ad spend or first-touch signups: what was spent
-- and how many users it acquired that day. A full outer join, because campaigns spend on days
-- without signups and organic/direct channels acquire users without spend.
with

ad_spend as (

    select * from {{ ref('stg_marketing__ad_spend') }}

),

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

daily_signups as (

    select
        signup_date as activity_date,
        channel,
        campaign,
        count(*) as signups

    from user_acquisition
    group by signup_date, channel, campaign

),

daily_spend as (

    select
        spend_date as activity_date,
        channel,
        campaign,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(spend_usd) as decimal(18, 2)) as spend_usd

    from ad_spend
    group by spend_date, channel, campaign

),

final as (

    select
        coalesce(daily_spend.activity_date, daily_signups.activity_date) as activity_date,
        coalesce(daily_spend.channel, daily_signups.channel) as channel,
        coalesce(daily_spend.campaign, daily_signups.campaign) as campaign,
        coalesce(daily_spend.impressions, 0) as impressions,
        coalesce(daily_spend.clicks, 0) as clicks,
        coalesce(daily_spend.spend_usd, 0) as spend_usd,
        coalesce(daily_signups.signups, 0) as signups

    from daily_spend
    full outer join daily_signups
        on
            daily_spend.activity_date = daily_signups.activity_date
            and daily_spend.channel = daily_signups.channel
            and daily_spend.campaign = daily_signups.campaign

)

select * from final
