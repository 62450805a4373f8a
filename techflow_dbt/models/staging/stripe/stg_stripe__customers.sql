-- One row per Stripe customer: its latest version, linked to the app user through the
-- app_user_id metadata (text in Stripe, cast to the app's bigint key). QA customers
-- (@techflow.test) are dropped, as in stg_app_db__users.
with

source as (

    select * from {{ source('stripe', 'customers') }}

),

renamed as (

    select
        customer_id as stripe_customer_id,
        {{ cast_or_null("nullif(trim(app_user_id), '')", "bigint") }} as customer_id,
        lower(trim(email)) as email,
        trim(name) as customer_name,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

-- Re-landed identical copies collapse to one row, stamped with the newest landing.
distinct_versions as (

    select
        stripe_customer_id,
        customer_id,
        email,
        customer_name,
        created_at,
        updated_at,
        max(loaded_at) as loaded_at

    from renamed
    group by
        stripe_customer_id,
        customer_id,
        email,
        customer_name,
        created_at,
        updated_at

),

ranked_versions as (

    select
        *,
        rank() over (
            partition by stripe_customer_id order by updated_at desc nulls last
        ) as version_rank

    from distinct_versions

),

final as (

    select
        stripe_customer_id,
        customer_id,
        email,
        customer_name,
        created_at,
        updated_at,
        loaded_at

    from ranked_versions
    where version_rank = 1 and not {{ is_test_email('email') }}

)

select * from final
