-- rpt_marketing_roi version 1, deprecated (its deprecation_date is in rpt_marketing_roi.yml):
-- version 2 plus `roi`, the same value as roas under the column's first name. It is return on ad
-- spend, not ROI = (revenue - spend) / spend (METRICS.md), so version 2 dropped the name. Kept as
-- a view over version 2 for the readers that pin v=1 until they move to roas.
{{ config(materialized='view') }}

with

report as (

    select * from {{ ref('rpt_marketing_roi', v=2) }}

),

final as (

    select
        marketing_roi_id,
        report_month,
        campaign_key,
        channel,
        campaign,
        spend_usd,
        impressions,
        clicks,
        visits,
        signup_visits,
        signups,
        last_touch_signups,
        linear_signups,
        visit_to_signup_rate,
        paying_customers,
        attributed_revenue_usd,
        cost_per_signup_usd,
        cac_usd,
        roas,
        roas as roi

    from report

)

select * from final
