-- Grain: one row per Salesforce opportunity (QA accounts excluded), its latest stage. New
-- business is a prospect's first contract; an expansion sells more seats or a higher plan to an
-- account sales already won. close_date is the actual close of a closed deal and the expected
-- close of an open one; amounts are ARR in USD (the generator ties won deals to app_db).
with

opportunities as (

    select
        *,
        cast(created_at as date) as created_date
    from {{ ref('stg_salesforce__opportunities') }}

),

accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),

final as (

    select
        opportunities.opportunity_id,
        opportunities.account_id,
        accounts.user_id,
        opportunities.opportunity_type,
        opportunities.stage,
        case opportunities.stage
            when 'Prospecting' then 1
            when 'Qualification' then 2
            when 'Proposal' then 3
            when 'Negotiation' then 4
            when 'Closed Won' then 5
            when 'Closed Lost' then 5
        end as stage_order,
        opportunities.is_won,
        opportunities.stage = 'Closed Lost' as is_lost,
        not opportunities.is_closed as is_open,
        opportunities.amount_usd,
        opportunities.lead_source,
        coalesce(opportunities.campaign, '(none)') as campaign,
        accounts.employee_count,
        -- Firmographic segment by the account's headcount (the enriched figure once won).
        case
            when accounts.employee_count >= 1000 then 'enterprise'
            when accounts.employee_count >= 200 then 'mid_market'
            else 'smb'
        end as account_segment,
        opportunities.created_at,
        opportunities.created_date,
        opportunities.close_date,
        case
            when opportunities.is_closed
                then
                    {{ dbt.datediff(
                        'opportunities.created_date', 'opportunities.close_date', 'day'
                    ) }}
        end as days_to_close,
        case
            when not opportunities.is_closed
                then {{ dbt.datediff('opportunities.created_date', as_of_day(), 'day') }}
        end as days_open,
        opportunities.updated_at

    from opportunities
    inner join accounts
        on opportunities.account_id = accounts.account_id

)

select * from final
