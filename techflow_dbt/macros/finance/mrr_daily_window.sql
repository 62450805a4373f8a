{#
    The date window one build of fct_mrr_daily computes, shared by fct_mrr_daily and
    int_daily_mrr_changes so both agree on it. Returns a dict of ISO date strings:

    - world_start: first day of the world (env TECHFLOW_WORLD_START, default 2025-01-01).
    - end:         last day built: var max_date, else yesterday (UTC), the last complete day.
    - start:       first day (re)computed. A full build starts at world_start. An incremental build
                   starts `mrr_lookback_days` before var min_date (or before the newest day already
                   in the table), so rows that landed late are re-merged, and never later than the
                   day after the newest day built, so skipped partitions leave no gap.
    - base_date:   start - 1: the day whose MRR an incremental build continues from.
    - landed_from: on incremental builds, the first raw `date` partition worth reading. A change
                   effective inside the window landed at most `mrr_lookback_days` late and at most
                   `mrr_max_trial_days` early (a trial's end is known when the period is created),
                   so older partitions are pruned and one day's cost does not grow with history.
                   None on full builds (read everything).
    - incremental: whether this is an incremental build (the table exists, no --full-refresh).

    fct_mrr_daily passes its own is_incremental() (which unit tests can override); elsewhere
    (int_daily_mrr_changes) it is worked out from the relation through the graph, the same way.
#}
{% macro mrr_daily_window(incremental=none) -%}
    {%- set dt = modules.datetime -%}
    {%- set one_day = dt.timedelta(days=1) -%}
    {%- set lookback = dt.timedelta(days=var('mrr_lookback_days', 3) | int) -%}
    {%- set max_trial = dt.timedelta(days=var('mrr_max_trial_days', 31) | int) -%}
    {%- set world_start = _mrr_parse_date(env_var('TECHFLOW_WORLD_START', '2025-01-01'), 'TECHFLOW_WORLD_START') -%}

    {%- if var('max_date', none) -%}
        {%- set end = _mrr_parse_date(var('max_date'), 'var max_date') -%}
    {%- else -%}
        {%- set end = dt.datetime.now(modules.pytz.utc).date() - one_day -%}
    {%- endif -%}
    {%- if var('min_date', none) -%}
        {%- set min_date = _mrr_parse_date(var('min_date'), 'var min_date') -%}
        {%- if min_date > end -%}
            {{ exceptions.raise_compiler_error(
                "fct_mrr_daily: var min_date " ~ min_date ~ " is after max_date " ~ end
                ~ "; pass a window with min_date <= max_date."
            ) }}
        {%- endif -%}
    {%- else -%}
        {%- set min_date = none -%}
    {%- endif -%}

    {%- if incremental is none -%}
        {%- set existing = _mrr_daily_relation() -%}
        {%- set incremental = existing is not none and not flags.FULL_REFRESH -%}
    {%- else -%}
        {%- set existing = this if incremental else none -%}
    {%- endif -%}

    {%- if not incremental -%}
        {%- set start = world_start -%}
    {%- else -%}
        {#- Continue from the newest day built, never leaving a gap: a window that starts after
            newest + 1 (a skipped partition) is widened back to newest + 1, because each build
            continues from the day before its start. -#}
        {%- set newest = _mrr_daily_newest_day(existing) -%}
        {%- set requested = (min_date if min_date is not none else (newest or world_start)) - lookback -%}
        {%- set start = [requested, newest + one_day] | min if newest else requested -%}
        {%- set start = [start, world_start] | max -%}
    {%- endif -%}

    {{ return({
        'world_start': world_start.isoformat(),
        'start': start.isoformat(),
        'end': end.isoformat(),
        'base_date': (start - one_day).isoformat(),
        'landed_from': (start - lookback - max_trial).isoformat() if incremental else none,
        'incremental': incremental,
    }) }}
{%- endmacro %}


{% macro _mrr_parse_date(value, what) -%}
    {%- set text = value | string | trim -%}
    {%- set parsed = modules.datetime.date.fromisoformat(text) if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) else none -%}
    {%- if parsed is none -%}
        {{ exceptions.raise_compiler_error(
            "fct_mrr_daily: " ~ what ~ " = '" ~ text ~ "' is not an ISO date (YYYY-MM-DD)."
        ) }}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}


{# The existing fct_mrr_daily relation, found through the graph so that the ephemeral
   int_daily_mrr_changes and the model itself agree; None while parsing or before the first build. #}
{% macro _mrr_daily_relation() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.fct_mrr_daily') -%}
    {%- if node is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro %}


{% macro _mrr_daily_newest_day(relation) -%}
    {#- In a unit test `this` is the name of the fixture's CTE, not a table: nothing to look up. -#}
    {%- if not execute or relation is none or relation is string -%}
        {{ return(none) }}
    {%- endif -%}
    {#- Look the table up first, so a missing table reads as "nothing built yet". -#}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select cast(max(date_day) as varchar) from " ~ relation) -%}
    {%- set newest = result.columns[0].values()[0] if result else none -%}
    {{ return(modules.datetime.date.fromisoformat(newest) if newest else none) }}
{%- endmacro %}


{#
    Pre-hook of fct_mrr_daily: on incremental builds, drop the rows of the window about to be
    re-computed. The merge then upserts the fresh rows; without this, a row that should no longer
    exist (late data moved a churn earlier) would survive the merge.
#}
{% macro mrr_daily_clear_window() -%}
    {%- if is_incremental() -%}
        {%- set window = mrr_daily_window(incremental=true) -%}
        delete from {{ this }}
        where date_day between cast('{{ window.start }}' as date) and cast('{{ window.end }}' as date)
    {%- endif -%}
{%- endmacro %}
