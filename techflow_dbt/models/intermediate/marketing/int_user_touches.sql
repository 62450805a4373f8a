-- One row per user and session (visit) at or before their signup: the touches of the user's
-- journey and the credit each attribution model gives them. Identifies link each browser
-- (anonymous_id) to the user; a session belongs to the user through a browser they identified
-- on, or through its own user_id.
-- - first touch: the earliest session;
-- - last touch: the latest session that was not direct (the "last non-direct click" convention:
--   typing the URL to come back is not what won the user), the latest session when all were direct;
-- - linear: every session gets 1 / touches.
-- Each model's credits sum to 1 per user, so summed over a mart they count every signup once.
with

users as (

    select * from {{ ref('stg_app_db__users') }}

),

identifies as (

    select * from {{ ref('stg_segment__identifies') }}

),

sessions as (

    select * from {{ ref('int_touch_sessions') }}

),

user_browsers as (

    select distinct
        user_id,
        anonymous_id

    from identifies

),

-- The union (not union all) keeps a session matched both ways from counting twice.
user_sessions as (

    select
        user_browsers.user_id,
        sessions.session_id,
        sessions.session_started_at,
        sessions.channel,
        sessions.utm_source,
        sessions.utm_medium,
        sessions.campaign

    from sessions
    inner join user_browsers
        on sessions.anonymous_id = user_browsers.anonymous_id

    union

    select
        user_id,
        session_id,
        session_started_at,
        channel,
        utm_source,
        utm_medium,
        campaign

    from sessions
    where user_id is not null

),

pre_signup as (

    select
        user_sessions.*,
        row_number() over (
            partition by user_sessions.user_id
            order by user_sessions.session_started_at, user_sessions.session_id
        ) as touch_number,
        count(*) over (partition by user_sessions.user_id) as touches,
        -- Ranks non-direct sessions latest first (direct ones after them, latest first).
        row_number() over (
            partition by user_sessions.user_id
            order by
                case when user_sessions.channel = 'direct' then 1 else 0 end,
                user_sessions.session_started_at desc nulls last,
                user_sessions.session_id desc nulls last
        ) as last_touch_rank

    from user_sessions
    inner join users
        on user_sessions.user_id = users.user_id
    where user_sessions.session_started_at <= users.signup_at

),

final as (

    select
        user_id,
        session_id,
        session_started_at,
        channel,
        utm_source,
        utm_medium,
        campaign,
        touch_number,
        touches,
        touch_number = 1 as is_first_touch,
        last_touch_rank = 1 as is_last_touch,
        cast(1.0 / touches as decimal(18, 6)) as linear_credit

    from pre_signup

)

select * from final
