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
        try_cast(nullif(trim(app_user_id), '') as bigint) as customer_id,
        lower(trim(email)) as email,
        trim(name) as customer_name,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        max(cast(_loaded_at as timestamp)) as loaded_at

    from source
    group by all

),

latest_version as (

    select *
    from renamed
    qualify rank() over (partition by stripe_customer_id order by updated_at desc) = 1

),

final as (

    select *
    from latest_version
    where not {{ is_test_email('email') }}

)

select * from final
