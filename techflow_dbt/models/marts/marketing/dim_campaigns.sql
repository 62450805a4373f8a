-- Grain: one row per marketing channel and campaign that spent money, brought a visit or acquired
-- a user.
-- Untagged acquisition appears as campaign '(none)' of its channel (e.g. direct), so every
-- acquired user points at a campaign row. Lifetime spend and acquisition totals are included for
-- convenience; per-month figures live in rpt_marketing_roi.
with

campaign_attribution as (

    select * from {{ ref('int_campaign_attribution') }}

),

opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

campaign_totals as (

    select
        channel,
        campaign,
        min(case when spend_usd > 0 then activity_date end) as first_spend_date,
        max(case when spend_usd > 0 then activity_date end) as last_spend_date,
        cast(sum(spend_usd) as decimal(18, 2)) as lifetime_spend_usd,
        cast(sum(impressions) as bigint) as lifetime_impressions,
        cast(sum(clicks) as bigint) as lifetime_clicks,
        cast(sum(visits) as bigint) as lifetime_visits,
        cast(sum(signups) as bigint) as lifetime_signups,
        cast(sum(last_touch_signups) as bigint) as lifetime_last_touch_signups,
        cast(sum(linear_signups) as decimal(18, 6)) as lifetime_linear_signups

    from campaign_attribution
    group by channel, campaign

),

-- Sales-led deals credited to a campaign in Salesforce; campaign names are unique across
-- channels, so the name alone identifies the campaign.
campaign_pipeline as (

    select
        campaign,
        count(*) as opportunities,
        count(case when is_won then 1 end) as won_opportunities,
        cast(sum(case when is_won then amount_usd else 0 end) as decimal(18, 2))
            as won_amount_usd

    from opportunities
    where campaign is not null
    group by campaign

),

final as (

    select
        {{ generate_surrogate_key(['campaign_totals.channel', 'campaign_totals.campaign']) }}
            as campaign_key,
        campaign_totals.channel,
        campaign_totals.campaign,
        campaign_totals.lifetime_spend_usd > 0 as is_paid_campaign,
        campaign_totals.first_spend_date,
        campaign_totals.last_spend_date,
        campaign_totals.lifetime_spend_usd,
        campaign_totals.lifetime_impressions,
        campaign_totals.lifetime_clicks,
        campaign_totals.lifetime_visits,
        campaign_totals.lifetime_signups,
        campaign_totals.lifetime_last_touch_signups,
        campaign_totals.lifetime_linear_signups,
        coalesce(campaign_pipeline.opportunities, 0) as opportunities,
        coalesce(campaign_pipeline.won_opportunities, 0) as won_opportunities,
        coalesce(campaign_pipeline.won_amount_usd, 0) as won_amount_usd

    from campaign_totals
    left join campaign_pipeline
        on campaign_totals.campaign = campaign_pipeline.campaign

)

select * from final
