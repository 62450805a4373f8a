-- One row per Salesforce account: the latest version of each account_id from the incremental
-- extract. Test accounts (the @techflow.test QA domain) are dropped here so no mart sees them.
with

source as (

    select * from {{ source('salesforce', 'accounts') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by account_id
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
        account_id,
        trim(name) as account_name,
        lower(trim(domain)) as company_domain,
        industry,
        cast(employees as integer) as employee_count,
        {{ cast_or_null("nullif(trim(app_user_id), '')", "bigint") }} as user_id,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at

    from latest_version

),

final as (

    select *
    from renamed
    -- QA accounts: the generator's and the QA team's reserved domain (see is_test_email).
    where not coalesce(company_domain = 'techflow.test', false)

)

select * from final
