-- One row per real app user and the customer account they belong to. An account is opened by the
-- user who signs up (its owner: subscriptions, Stripe and CRM records carry the owner's user_id,
-- the customer_id of every finance mart); the owner invites teammates who fill its seats. Usage
-- belongs to people, churn and seats to accounts: customer_id rolls people up to their account.
with

users as (

    select * from {{ ref('stg_app_db__users') }}

),

final as (

    select
        user_id,
        coalesce(account_owner_id, user_id) as customer_id,
        account_owner_id,
        account_owner_id is null as is_account_owner,
        email,
        full_name,
        company_name,
        company_domain,
        country_code,
        signup_at

    from users

)

select * from final
