-- Grain: one row per real app user (test accounts excluded), current state: account owners (the
-- signups) and the teammates they invited. The user as product and marketing see them: who they
-- are, which customer account they belong to, how that account was acquired (first touch of the
-- owner's signup; a teammate came in through the account), its CRM account, and their own usage.
with

account_members as (

    select * from {{ ref('int_account_members') }}

),

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
accounts_per_user as (

    select
        user_id,
        account_id,
        industry,
        employee_count,
        row_number() over (
            partition by user_id
            order by updated_at desc nulls last, account_id asc
        ) as newest_first

    from salesforce_accounts
    where user_id is not null

),

account_per_user as (

    select
        user_id,
        account_id,
        industry,
        employee_count

    from accounts_per_user
    where newest_first = 1

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
        {{ generate_surrogate_key(['account_members.user_id']) }} as user_key,
        account_members.user_id,
        account_members.customer_id,
        account_members.account_owner_id,
        account_members.is_account_owner,
        account_members.email,
        account_members.full_name,
        account_members.company_name,
        account_members.company_domain,
        account_members.country_code,
        account_members.signup_at,
        cast(account_members.signup_at as date) as signup_date,
        cast({{ dbt.date_trunc('month', 'account_members.signup_at') }} as date) as cohort_month,
        user_acquisition.channel as acquisition_channel,
        user_acquisition.campaign as acquisition_campaign,
        case
            when account_members.is_account_owner then user_acquisition.first_touch_at
        end as first_touch_at,
        account_per_user.account_id as salesforce_account_id,
        account_per_user.industry,
        account_per_user.employee_count,
        lifetime_usage.first_active_date,
        lifetime_usage.last_active_date,
        coalesce(lifetime_usage.active_days, 0) as active_days,
        coalesce(lifetime_usage.lifetime_event_count, 0) as lifetime_event_count

    from account_members
    -- Inner join: every real user's account has a real owner, whose signup names the acquisition.
    inner join user_acquisition
        on account_members.customer_id = user_acquisition.user_id
    left join account_per_user
        on account_members.customer_id = account_per_user.user_id
    left join lifetime_usage
        on account_members.user_id = lifetime_usage.user_id

)

select * from final
