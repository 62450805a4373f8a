-- One row per Salesforce opportunity: the latest version of each opportunity_id (a stage change
-- lands a new version), with the amount in dollars and the stage's meaning spelled out.
-- Opportunities of QA accounts go with their accounts: the QA mark (the techflow.test domain) is
-- on the account, so this model reads the accounts extract for that one flag.
-- Documented exception (dbt-project-evaluator: staging joins two sources / a source feeds two
-- staging models): QA data is dropped at the staging boundary for every source (users, Stripe
-- customers, accounts), so no model downstream can ever see a QA deal; the only QA mark of a deal
-- is its account's domain, read here by a semi-join (not exists) that adds no column or row.
with

source as (

    select * from {{ source('salesforce', 'opportunities') }}

),

qa_accounts as (

    select distinct account_id
    from {{ source('salesforce', 'accounts') }}
    where lower(trim(domain)) = 'techflow.test'

),

numbered as (

    select
        *,
        row_number() over (
            partition by opportunity_id
            order by updated_at desc nulls last, _loaded_at desc nulls last
        ) as version_number

    from source

),

latest_version as (

    select *
    from numbered
    where version_number = 1

),

renamed as (

    select
        opportunity_id,
        account_id,
        trim(name) as opportunity_name,
        nullif(trim(type), '') as opportunity_type,
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
    -- not exists, not `not in (subquery)`: one null account_id in qa_accounts would make
    -- `not in` unknown for every row and drop all deals.
    where not exists (
        select 1 from qa_accounts
        where qa_accounts.account_id = latest_version.account_id
    )

)

select * from renamed
