-- One row per Salesforce opportunity: the latest version of each opportunity_id (a stage change
-- lands a new version), with the amount in dollars and the stage's meaning spelled out.
-- Opportunities of QA accounts go with their accounts: the QA mark (the techflow.test domain) is
-- on the account, so this model reads the accounts extract for that one flag.
with

source as (

    select * from {{ source('salesforce', 'opportunities') }}

),

qa_accounts as (

    select distinct account_id
    from {{ source('salesforce', 'accounts') }}
    where lower(trim(domain)) = 'techflow.test'

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
    where account_id not in (select qa_accounts.account_id from qa_accounts)

)

select * from renamed
