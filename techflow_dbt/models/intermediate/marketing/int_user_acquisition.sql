-- One row per (real) signup, i.e. account owner: their profile and the marketing attribution of
-- their signup. Reads the user spine int_account_members (which users are real, who owns which
-- account), so it is defined once for every mart downstream.
-- The touches (sessions up to the signup) come from int_user_touches: the first one names the
-- acquisition channel and campaign (first touch, the credit every existing mart uses), the last
-- non-direct one names the last touch. Users with no tracked touch were not measured by Segment:
-- they count as direct for both.
with

-- Signups only: invited teammates joined an account, they did not sign up, so every
-- signup, acquisition and cohort count downstream counts account owners.
users as (

    select * from {{ ref('int_account_members') }}
    where is_account_owner

),

touches as (

    select * from {{ ref('int_user_touches') }}

),

first_touch as (

    select *
    from touches
    where is_first_touch

),

last_touch as (

    select *
    from touches
    where is_last_touch

),

final as (

    select
        users.user_id,
        users.email,
        users.full_name,
        users.company_name,
        users.company_domain,
        users.country_code,
        users.signup_at,
        cast(users.signup_at as date) as signup_date,
        cast({{ dbt.date_trunc('month', 'users.signup_at') }} as date) as cohort_month,
        first_touch.session_id as first_touch_message_id,
        first_touch.session_started_at as first_touch_at,
        coalesce(first_touch.channel, 'direct') as channel,
        first_touch.utm_source,
        first_touch.utm_medium,
        -- Untagged traffic has no campaign; '(none)' keeps it a joinable member of dim_campaigns.
        coalesce(first_touch.campaign, '(none)') as campaign,
        last_touch.session_started_at as last_touch_at,
        coalesce(last_touch.channel, 'direct') as last_touch_channel,
        coalesce(last_touch.campaign, '(none)') as last_touch_campaign,
        coalesce(first_touch.touches, 0) as touches_before_signup,
        first_touch.session_id is not null as has_tracked_touch

    from users
    left join first_touch
        on users.user_id = first_touch.user_id
    left join last_touch
        on users.user_id = last_touch.user_id

)

select * from final
