-- One row per app user: the latest version of each user_id from the incremental extract. A user
-- is an account owner (signed up; account_owner_id null) or a teammate the owner invited.
-- Internal QA accounts (@techflow.test) are dropped here so no mart ever counts them.
-- Re-landed identical copies collapse; two *different* versions with the same updated_at are
-- both kept, so the unique test on user_id fails instead of silently picking one.
with

source as (

    select * from {{ source('app_db', 'users') }}

),

renamed as (

    select
        cast(user_id as bigint) as user_id,
        lower(trim(email)) as email,
        trim(full_name) as full_name,
        trim(company_name) as company_name,
        lower(trim(company_domain)) as company_domain,
        upper(trim(country)) as country_code,
        cast(signup_at as timestamp) as signup_at,
        cast(account_owner_id as bigint) as account_owner_id,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

-- Re-landed identical copies collapse to one row, stamped with the newest landing.
distinct_versions as (

    select
        user_id,
        email,
        full_name,
        company_name,
        company_domain,
        country_code,
        signup_at,
        account_owner_id,
        updated_at,
        max(loaded_at) as loaded_at

    from renamed
    group by
        user_id,
        email,
        full_name,
        company_name,
        company_domain,
        country_code,
        signup_at,
        account_owner_id,
        updated_at

),

ranked_versions as (

    select
        *,
        rank() over (
            partition by user_id order by updated_at desc nulls last
        ) as version_rank

    from distinct_versions

),

final as (

    select
        user_id,
        email,
        full_name,
        company_name,
        company_domain,
        country_code,
        signup_at,
        account_owner_id,
        updated_at,
        loaded_at

    from ranked_versions
    where version_rank = 1 and not {{ is_test_email('email') }}

)

select * from final
