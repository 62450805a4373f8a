-- Grain: one row per month x opportunity type x lead source x account segment with any deal
-- created, closed or expected to close in it. Created counts use the creation month; won/lost
-- use the close month; the open pipeline (by current stage) uses the expected close month, the
-- forecast view sales reviews. win_rate = won / (won + lost) of the deals closed that month.
with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

dated as (

    select
        cast({{ dbt.date_trunc('month', 'created_date') }} as date) as report_month,
        opportunity_type,
        lead_source,
        account_segment,
        1 as created,
        amount_usd as created_usd,
        0 as won,
        0 as lost,
        0 as won_usd,
        0 as open_deals,
        0 as open_usd,
        0 as prospecting_usd,
        0 as qualification_usd,
        0 as proposal_usd,
        0 as negotiation_usd
    from opportunities

    union all

    select
        cast({{ dbt.date_trunc('month', 'close_date') }} as date) as report_month,
        opportunity_type,
        lead_source,
        account_segment,
        0 as created,
        0 as created_usd,
        case when is_won then 1 else 0 end as won,
        case when is_lost then 1 else 0 end as lost,
        case when is_won then amount_usd else 0 end as won_usd,
        case when is_open then 1 else 0 end as open_deals,
        case when is_open then amount_usd else 0 end as open_usd,
        case when stage = 'Prospecting' then amount_usd else 0 end as prospecting_usd,
        case when stage = 'Qualification' then amount_usd else 0 end as qualification_usd,
        case when stage = 'Proposal' then amount_usd else 0 end as proposal_usd,
        case when stage = 'Negotiation' then amount_usd else 0 end as negotiation_usd
    from opportunities

),

monthly as (

    select
        report_month,
        opportunity_type,
        lead_source,
        account_segment,
        cast(sum(created) as integer) as opportunities_created,
        cast(sum(created_usd) as decimal(18, 2)) as pipeline_created_usd,
        cast(sum(won) as integer) as won_opportunities,
        cast(sum(lost) as integer) as lost_opportunities,
        cast(sum(won_usd) as decimal(18, 2)) as won_amount_usd,
        cast(sum(open_deals) as integer) as open_opportunities,
        cast(sum(open_usd) as decimal(18, 2)) as open_pipeline_usd,
        cast(sum(prospecting_usd) as decimal(18, 2)) as open_prospecting_usd,
        cast(sum(qualification_usd) as decimal(18, 2)) as open_qualification_usd,
        cast(sum(proposal_usd) as decimal(18, 2)) as open_proposal_usd,
        cast(sum(negotiation_usd) as decimal(18, 2)) as open_negotiation_usd
    from dated
    group by report_month, opportunity_type, lead_source, account_segment

),

final as (

    select
        {{ generate_surrogate_key([
            'report_month', 'opportunity_type', 'lead_source', 'account_segment'
        ]) }} as sales_pipeline_id,
        report_month,
        opportunity_type,
        lead_source,
        account_segment,
        opportunities_created,
        pipeline_created_usd,
        won_opportunities,
        lost_opportunities,
        won_amount_usd,
        case
            when won_opportunities + lost_opportunities > 0
                then
                    cast(won_opportunities as double precision)
                    / (won_opportunities + lost_opportunities)
        end as win_rate,
        open_opportunities,
        open_pipeline_usd,
        open_prospecting_usd,
        open_qualification_usd,
        open_proposal_usd,
        open_negotiation_usd
    from monthly

)

select * from final
