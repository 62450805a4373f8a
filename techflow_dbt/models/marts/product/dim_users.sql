-- Grain: one row per real app user (test accounts excluded), current state.
-- The user as product and marketing see them: who they are, where they came from (first touch),
-- which CRM account they belong to, and how much they have used the products.
with

user_acquisition as (

    select * from {{ ref('int_user_acquisition') }}

),

salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),

engagement_daily as (

    select * from {{ ref('int_user_engagement_daily') }}

),

-- A CRM account names its owning app user; should two accounts claim one user, the most
-- recently updated wins so the dimension keeps one row per user.
account_per_user as (

    select
        user_id,
        account_id,
        industry,
        employee_count

    from salesforce_accounts
    where user_id is not null
    qualify row_number() over (
        partition by user_id
        order by updated_at desc, account_id asc
    ) = 1

),

lifetime_usage as (

    select
        user_id,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date,
        count(*) as active_days,
        cast(sum(event_count) as bigint) as lifetime_event_count

    from engagement_daily
    group by user_id

),

final as (

    select
        {{ generate_surrogate_key(['user_acquisition.user_id']) }} as user_key,
        user_acquisition.user_id,
        user_acquisition.email,
        user_acquisition.full_name,
        user_acquisition.company_name,
        user_acquisition.company_domain,
        user_acquisition.country_code,
        user_acquisition.signup_at,
        user_acquisition.signup_date,
        user_acquisition.cohort_month,
        user_acquisition.channel as acquisition_channel,
        user_acquisition.campaign as acquisition_campaign,
        user_acquisition.first_touch_at,
        account_per_user.account_id as salesforce_account_id,
        account_per_user.industry,
        account_per_user.employee_count,
        lifetime_usage.first_active_date,
        lifetime_usage.last_active_date,
        coalesce(lifetime_usage.active_days, 0) as active_days,
        coalesce(lifetime_usage.lifetime_event_count, 0) as lifetime_event_count

    from user_acquisition
    left join account_per_user
        on user_acquisition.user_id = account_per_user.user_id
    left join lifetime_usage
        on user_acquisition.user_id = lifetime_usage.user_id

)

select * from final
