-- One row per Salesforce opportunity: the latest version of each opportunity_id (a stage change
-- lands a new version), with the amount in dollars and the stage's meaning spelled out.
with

source as (

    select * from {{ source('salesforce', 'opportunities') }}

),

latest_version as (

    select *
    from source
    qualify row_number() over (
        partition by opportunity_id
        order by updated_at desc, _loaded_at desc
    ) = 1

),

renamed as (

    select
        opportunity_id,
        account_id,
        trim(name) as opportunity_name,
        stage,
        {{ cents_to_dollars('amount') }} as amount_usd,
        cast(close_date as date) as close_date,
        lead_source,
        nullif(lower(trim(campaign)), '') as campaign,
        stage = 'Closed Won' as is_won,
        stage in ('Closed Won', 'Closed Lost') as is_closed,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at

    from latest_version

)

select * from renamed
