-- Grain: one row per month, marketing channel and campaign that spent money, brought visits or
-- acquired a user in that month. Signups are first touch (the cohort the revenue and CAC follow);
-- last_touch_signups and linear_signups show the same month under the other attribution models.
-- A cohort view of marketing returns: the month's spend against the users the campaign acquired
-- that month (first touch), how many became paying, and all revenue collected
-- from them to date. roas = attributed revenue / spend (revenue per dollar spent; above 1 means
-- the cohort has paid back its spend). Recent cohorts have had less time to pay back.
-- Version 2 (the latest); version 1, deprecated, adds `roi` (rpt_marketing_roi_v1.sql).
with

campaign_attribution as (

    select * from {{ ref('int_campaign_attribution') }}

),

customer_acquisition as (

    select * from {{ ref('fct_customer_acquisition') }}

),

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

monthly_spend as (

    select
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as report_month,
        channel,
        campaign,
        cast(sum(spend_usd) as decimal(18, 2)) as spend_usd,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(visits) as bigint) as visits,
        cast(sum(signup_visits) as bigint) as signup_visits,
        cast(sum(last_touch_signups) as bigint) as last_touch_signups,
        cast(sum(linear_signups) as decimal(18, 6)) as linear_signups

    from campaign_attribution
    group by {{ dbt.date_trunc('month', 'activity_date') }}, channel, campaign

),

monthly_acquisition as (

    select
        acquisition_month as report_month,
        channel,
        campaign,
        count(*) as signups,
        count(case when is_paying_customer then 1 end) as paying_customers,
        cast(sum(net_revenue_to_date_usd) as decimal(18, 2)) as attributed_revenue_usd

    from customer_acquisition
    group by acquisition_month, channel, campaign

),

combined as (

    select
        coalesce(monthly_spend.report_month, monthly_acquisition.report_month) as report_month,
        coalesce(monthly_spend.channel, monthly_acquisition.channel) as channel,
        coalesce(monthly_spend.campaign, monthly_acquisition.campaign) as campaign,
        coalesce(monthly_spend.spend_usd, 0) as spend_usd,
        coalesce(monthly_spend.impressions, 0) as impressions,
        coalesce(monthly_spend.clicks, 0) as clicks,
        coalesce(monthly_spend.visits, 0) as visits,
        coalesce(monthly_spend.signup_visits, 0) as signup_visits,
        coalesce(monthly_spend.last_touch_signups, 0) as last_touch_signups,
        coalesce(monthly_spend.linear_signups, 0) as linear_signups,
        coalesce(monthly_acquisition.signups, 0) as signups,
        coalesce(monthly_acquisition.paying_customers, 0) as paying_customers,
        coalesce(monthly_acquisition.attributed_revenue_usd, 0) as attributed_revenue_usd

    from monthly_spend
    full outer join monthly_acquisition
        on
            monthly_spend.report_month = monthly_acquisition.report_month
            and monthly_spend.channel = monthly_acquisition.channel
            and monthly_spend.campaign = monthly_acquisition.campaign

),

final as (

    select
        {{ generate_surrogate_key(
            ['combined.report_month', 'combined.channel', 'combined.campaign']
        ) }} as marketing_roi_id,
        combined.report_month,
        campaigns.campaign_key,
        combined.channel,
        combined.campaign,
        combined.spend_usd,
        combined.impressions,
        combined.clicks,
        combined.visits,
        combined.signup_visits,
        combined.signups,
        combined.last_touch_signups,
        combined.linear_signups,
        combined.paying_customers,
        combined.attributed_revenue_usd,
        -- Ratios are null where their denominator is zero (unpaid channels, no conversions).
        -- Visits of the month that were a signup's first touch / the month's visits: a visit
        -- cohort's conversion, so never above 1 (signups are dated by signup, visits by visit).
        {{ ratio_or_null('combined.signup_visits', 'combined.visits') }} as visit_to_signup_rate,
        case
            when combined.signups > 0
                then cast(combined.spend_usd / combined.signups as decimal(18, 2))
        end as cost_per_signup_usd,
        case
            when combined.paying_customers > 0
                then cast(combined.spend_usd / combined.paying_customers as decimal(18, 2))
        end as cac_usd,
        -- ROAS (revenue / spend), METRICS.md; ROI proper would be (revenue - spend) / spend.
        {{ ratio_or_null('combined.attributed_revenue_usd', 'combined.spend_usd') }} as roas

    from combined
    inner join campaigns
        on
            combined.channel = campaigns.channel
            and combined.campaign = campaigns.campaign

)

select * from final
