{#
    The window an incremental event-grain mart recomputes on this build: every row whose
    `date_column` is on or after the returned start (an ISO date string), or none when the build
    recomputes everything (a full build, --full-refresh, an empty or missing table, parsing).

    The start is the earlier of the requested partition's first day (min_date of the project's one
    partition window, mrr_window_bound: the dbt var, or TECHFLOW_MRR_MIN_DATE as Dagster passes it)
    and the day after the newest day already built (a skipped partition leaves no gap), moved back
    by the model's `lookback` config in days. The lookback is what late data needs: a usage event
    or Segment message of day D lands in D+1's partition, so building D+1 must re-read D. No upper
    bound: everything from the start is recomputed, as a full refresh would compute it, so a
    re-landed old partition's repair run (min_date = that day) rebuilds from it to the newest day.

    Used by the model (to filter what it reads) and by its pre-hook (incremental_window_clear), so
    both agree; a model that uses it must set `lookback` explicitly.
#}
{% macro incremental_window_start(date_column) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set lookback = config.get('lookback') -%}
    {%- if lookback is none or lookback | int < 0 -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": incremental_window_start needs config lookback (days, >= 0); got "
            ~ lookback
        ) }}
    {%- endif -%}
    {%- set newest = _newest_date_in(this, date_column) -%}
    {%- if newest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set one_day = modules.datetime.timedelta(days=1) -%}
    {%- set candidates = [newest + one_day] -%}
    {%- set requested = requested_window_start() -%}
    {%- if requested is not none -%}
        {%- do candidates.append(requested) -%}
    {%- endif -%}
    {%- set start = (candidates | min) - modules.datetime.timedelta(days=lookback | int) -%}
    {{ return(start.isoformat()) }}
{%- endmacro %}


{#
    The model's filter for its window: `true` when everything is recomputed. With config meta
    `user_attributes`, also every day of the users rebuilt wholly (incremental_rebuilt_users).
#}
{% macro incremental_window_filter(date_column) -%}
    {%- set start = incremental_window_start(date_column) -%}
    {%- if start is none -%}
        true
    {%- else -%}
        ({{ date_column }} >= cast('{{ start }}' as date)
        {%- if config.meta_get('user_attributes') %}
            or user_id in ({{ incremental_rebuilt_users(date_column) }})
        {%- endif -%}
        )
    {%- endif -%}
{%- endmacro %}


{#
    Pre-hook of a model built with incremental_window_start: drop the rows of the window about to
    be recomputed, so a row that should no longer exist (a re-landed partition withdrew an event)
    does not survive; the model then appends the window. Runs in the model's transaction, so a
    failed build leaves the table as it was.

    A model whose rows carry user attributes taken from the current dim_users (config meta
    `user_attributes`, see incremental_stale_users) also drops every row of each user whose rows
    as built no longer match dim_users: the model rebuilds those users wholly
    (incremental_rebuilt_users).
#}
{% macro incremental_window_clear(date_column) -%}
    {%- set start = incremental_window_start(date_column) -%}
    {%- if start is not none -%}
        delete from {{ this }} where {{ date_column }} >= cast('{{ start }}' as date)
        {%- if config.meta_get('user_attributes') %}
            or user_id in ({{ incremental_stale_users() }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#
    The users whose rows, as built, no longer match the current dim_users: one of the model's
    `user_attributes` differs, or the user left dim_users (became a test account). The window
    recomputes only its days, but these attributes restate every day of a user when dim_users
    changes (a user moved to another customer account, a corrected signup), so without this the
    days before the window would keep the old values and the table would drift from a full refresh.

    `user_attributes` (in the model's config meta: dbt wants custom keys there) maps each built
    column taken from dim_users to the expression a full refresh computes for it, over `built`
    (the row of this table) and `users` (dim_users), e.g.
        {'customer_id': 'users.customer_id',
         'is_signup_day': 'built.activity_date = users.signup_date'}.
    A row matches when every column is not distinct from its expression (nulls compare equal).

    Cheap by construction: one scan of the table probing a hash table of dim_users (one row per
    user, the small build side) on user_id, no sort and no window; a distinct of the few users
    found. A per-row probe rather than a distinct-users anti-join because an attribute may depend
    on the row (is_signup_day); for user-level attributes both cost one scan of the table.
#}
{% macro incremental_stale_users() -%}
    {%- set attributes = config.meta_get('user_attributes') -%}
    select distinct built.user_id
    from {{ this }} as built
    left join {{ ref('dim_users') }} as users
        on built.user_id = users.user_id
    where
        users.user_id is null
        {%- for column, expression in attributes.items() %}
        or built.{{ column }} is distinct from ({{ expression }})
        {%- endfor %}
{%- endmacro %}


{#
    The users the model reads wholly on this build, besides the window's days: the users of
    dim_users with no row left in this table before the window start. Evaluated when the model's
    query runs, after the pre-hook, so it sees the table as the pre-hook left it and needs no
    second stale check (which, run after the delete, would find nothing): it holds the stale users
    the pre-hook just deleted, and the users never built before the window (new, or a test account
    that became real, whose old events were never product usage until now). Users who had no
    activity before the window are in it too and read nothing more than the window's days.
    Cheap: the distinct users of the table before the window, anti-joined to dim_users by hash.
    `none` when the build recomputes everything.
#}
{% macro incremental_rebuilt_users(date_column) -%}
    {%- set start = incremental_window_start(date_column) -%}
    {%- if start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
    select users.user_id
    from {{ ref('dim_users') }} as users
    left join (
        select distinct user_id
        from {{ this }}
        where {{ date_column }} < cast('{{ start }}' as date)
    ) as built_before_window
        on users.user_id = built_before_window.user_id
    where built_before_window.user_id is null
    {%- endset -%}
    {{ return(query) }}
{%- endmacro %}
