-- One row per browsing session: a browser's (anonymous_id) page views with no gap longer than
-- 30 minutes (the Google Analytics convention). The session's first page view carries its
-- marketing context: the UTM of the link it arrived through, or none (direct). Sessions, not
-- page views, are the visits of the funnel and the touches of attribution: a visitor's /pricing
-- view a minute after landing is the same visit.
with

tracks as (

    select * from {{ ref('stg_segment__tracks') }}

),

page_views as (

    select
        *,
        lag(event_at) over (
            partition by anonymous_id
            order by event_at, message_id
        ) as previous_view_at

    from tracks
    where event_name = 'page viewed'

),

flagged as (

    select
        *,
        case
            when
                previous_view_at is null
                or event_at > previous_view_at + interval '30 minutes'
                then 1
            else 0
        end as is_session_start

    from page_views

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id
            order by event_at, message_id
            rows between unbounded preceding and current row
        ) as session_number

    from flagged

),

session_stats as (

    select
        anonymous_id,
        session_number,
        -- A page view made after identify names the user; any one is enough.
        max(user_id) as user_id,
        count(*) as page_views

    from numbered
    group by anonymous_id, session_number

),

final as (

    select
        -- The session is named by its first page view (a Segment message_id).
        numbered.message_id as session_id,
        numbered.anonymous_id,
        session_stats.user_id,
        numbered.event_at as session_started_at,
        numbered.event_date as session_date,
        numbered.channel,
        numbered.utm_source,
        numbered.utm_medium,
        -- Untagged traffic has no campaign; '(none)' keeps it a joinable member of dim_campaigns.
        coalesce(numbered.utm_campaign, '(none)') as campaign,
        session_stats.page_views

    from numbered
    inner join session_stats
        on
            numbered.anonymous_id = session_stats.anonymous_id
            and numbered.session_number = session_stats.session_number
    where numbered.is_session_start = 1

)

select * from final
