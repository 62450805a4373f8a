-- One row per (real) signup, i.e. account owner: their profile and the first-touch marketing
-- attribution of their signup. Reads the user spine int_account_members (which users are real,
-- who owns which account), so it is defined once for every mart downstream.
-- Segment identifies link each browser (anonymous_id) to the user; every tracked visit of those
-- browsers, or of the user once identified, up to the signup is a touch, and the earliest one gets
-- the credit. Users with no tracked touch were not measured by Segment: they count as direct.
with

-- Signups only: invited teammates (issue 13 C) joined an account, they did not sign up, so every
-- signup, acquisition and cohort count downstream counts account owners.
users as (

    select * from {{ ref('int_account_members') }}
    where is_account_owner

),

identifies as (

    select * from {{ ref('stg_segment__identifies') }}

),

tracks as (

    select * from {{ ref('stg_segment__tracks') }}

),

user_browsers as (

    select distinct
        user_id,
        anonymous_id

    from identifies

),

-- A visit belongs to a user through a browser they identified on, or through its own user_id.
-- The union (not union all) keeps a visit matched both ways from counting twice.
user_touches as (

    select
        user_browsers.user_id,
        tracks.message_id,
        tracks.event_at,
        tracks.channel,
        tracks.utm_source,
        tracks.utm_medium,
        tracks.utm_campaign

    from tracks
    inner join user_browsers
        on tracks.anonymous_id = user_browsers.anonymous_id

    union

    select
        user_id,
        message_id,
        event_at,
        channel,
        utm_source,
        utm_medium,
        utm_campaign

    from tracks
    where user_id is not null

),

pre_signup_touches as (

    select
        user_touches.*,
        row_number() over (
            partition by user_touches.user_id
            order by user_touches.event_at, user_touches.message_id
        ) as touch_number,
        count(*) over (partition by user_touches.user_id) as touches_before_signup

    from user_touches
    inner join users
        on user_touches.user_id = users.user_id
    where user_touches.event_at <= users.signup_at

),

first_touch as (

    select *
    from pre_signup_touches
    where touch_number = 1

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
        first_touch.message_id as first_touch_message_id,
        first_touch.event_at as first_touch_at,
        coalesce(first_touch.channel, 'direct') as channel,
        first_touch.utm_source,
        first_touch.utm_medium,
        -- Untagged traffic has no campaign; '(none)' keeps it a joinable member of dim_campaigns.
        coalesce(first_touch.utm_campaign, '(none)') as campaign,
        coalesce(first_touch.touches_before_signup, 0) as touches_before_signup,
        first_touch.message_id is not null as has_tracked_touch

    from users
    left join first_touch
        on users.user_id = first_touch.user_id

)

select * from final
