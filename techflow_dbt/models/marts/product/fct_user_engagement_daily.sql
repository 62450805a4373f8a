-- Grain: one row per real user and UTC day on which the user had at least one usage event.
-- Daily activity plus trailing 7- and 28-day windows (calendar days, so quiet days count as zero
-- even though they have no row), the inputs of engagement dashboards and churn signals.
-- The frames are inlined (no WINDOW clause: Snowflake lacks it); Jinja keeps them written once.
--
-- Incremental by activity day (macros/incremental_window.sql), like fct_events: a daily build
-- recomputes the days from the requested partition (or the day after the newest built) `lookback`
-- days back, since a usage event lands up to a day late; the pre-hook deletes them first. Their
-- trailing windows read the 27 days before the window (context_start), and a user's previous
-- active day before that comes from the rows already built, which a full refresh computes alike.
-- user_key, customer_id and is_signup_day come from the current dim_users: when a user's built rows
-- no longer match it (moved to another customer account, signup corrected, became a test account),
-- the pre-hook deletes all of the user's rows, and the build reads every day of each real user with
-- no row left before the window (just deleted, or never built), so their trailing windows and
-- previous active days are computed over the user's whole history, as a full refresh does.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        lookback=2,
        meta={'window_column': 'activity_date', 'user_attributes': {
            'user_key': 'users.user_key',
            'customer_id': 'users.customer_id',
            'is_signup_day': 'built.activity_date = users.signup_date',
        }},
        pre_hook="{{ incremental_window_clear('activity_date') }}",
    )
}}
{%- set window_start = incremental_window_start('activity_date') %}
{%- set rebuilt_users = incremental_rebuilt_users('activity_date') %}
{%- if window_start %}
    {%- set context_start = (
        modules.datetime.date.fromisoformat(window_start) - modules.datetime.timedelta(days=27)
    ).isoformat() %}
{%- endif %}
{%- set trailing_7_days -%}
    partition by engagement_daily.user_id
            order by engagement_daily.activity_date
            range between {{ days_offset(6) }} preceding and current row
{%- endset %}
{%- set trailing_28_days -%}
    partition by engagement_daily.user_id
            order by engagement_daily.activity_date
            range between {{ days_offset(27) }} preceding and current row
{%- endset %}
with
{% if window_start %}
-- The users read wholly (every day), besides the window's days (a full build reads every day).
rebuilt_users as (

    {{ rebuilt_users }}

),
{% endif %}
engagement_daily as (

    select * from {{ ref('int_user_engagement_daily') }}
    {%- if window_start %}
        where
            activity_date >= cast('{{ context_start }}' as date)
            or user_id in (select rebuilt_users.user_id from rebuilt_users)
    {%- endif %}

),

-- Each user's last active day before the rows read above, from the rows already built (none for
-- a user rebuilt wholly: no row of theirs is left before the window).
earlier_activity as (

    {% if window_start -%}
    select
        user_id,
        max(activity_date) as activity_date
    from {{ this }}
    where activity_date < cast('{{ context_start }}' as date)
    group by user_id
    {%- else -%}
    -- A full build reads every day: there is nothing before them.
    select
        user_id,
        activity_date
    from engagement_daily
    where false
    {%- endif %}

),

users as (

    select * from {{ ref('dim_users') }}

),

with_windows as (

    select
        engagement_daily.*,
        count(*) over ({{ trailing_7_days }}) as active_days_last_7_days,
        cast(sum(engagement_daily.event_count) over ({{ trailing_7_days }}) as bigint)
            as events_last_7_days,
        count(*) over ({{ trailing_28_days }}) as active_days_last_28_days,
        cast(sum(engagement_daily.event_count) over ({{ trailing_28_days }}) as bigint)
            as events_last_28_days,
        coalesce(
            lag(engagement_daily.activity_date) over (
                partition by engagement_daily.user_id
                order by engagement_daily.activity_date
            ),
            earlier_activity.activity_date
        ) as previous_active_date

    from engagement_daily
    left join earlier_activity
        on engagement_daily.user_id = earlier_activity.user_id

),

final as (

    select
        {{ generate_surrogate_key(['with_windows.user_id', 'with_windows.activity_date']) }}
            as user_engagement_day_key,
        users.user_key,
        with_windows.user_id,
        -- The customer account the user's activity counts for (owner or invited teammate).
        users.customer_id,
        with_windows.activity_date,
        with_windows.event_count,
        with_windows.features_used,
        with_windows.products_used,
        with_windows.cloudsync_event_count,
        with_windows.teamchat_event_count,
        with_windows.datahub_event_count,
        with_windows.first_event_at,
        with_windows.last_event_at,
        with_windows.active_days_last_7_days,
        with_windows.events_last_7_days,
        with_windows.active_days_last_28_days,
        with_windows.events_last_28_days,
        {{ dbt.datediff('with_windows.previous_active_date', 'with_windows.activity_date', 'day') }}
            as days_since_previous_activity,
        with_windows.activity_date = users.signup_date as is_signup_day

    from with_windows
    inner join users
        on with_windows.user_id = users.user_id
    {%- if window_start %}
    where
        with_windows.activity_date >= cast('{{ window_start }}' as date)
        or with_windows.user_id in (select rebuilt_users.user_id from rebuilt_users)
    {%- endif %}

)

select * from final
