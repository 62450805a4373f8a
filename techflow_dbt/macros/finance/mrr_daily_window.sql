{#
    The date window one build of fct_mrr_daily computes, shared by fct_mrr_daily, its pre-hook and
    int_daily_mrr_changes so all three agree. Returns a dict of ISO date strings:

    - world_start: first day of the world (env TECHFLOW_WORLD_START, default 2025-01-01).
    - end:         last day built: var max_date, else the as-of day (TECHFLOW_AS_OF, default
                   yesterday UTC). An incremental build never ends before the newest day already
                   built: rebuilding an old partition carries its changes forward to that day.
    - start:       first day (re)computed. A full build starts at world_start. An incremental
                   build starts at the earliest of:
                     * var min_date (the requested partition), else the day after the newest built;
                     * the day after the newest built (a skipped partition leaves no gap);
                     * the earliest day on which a late or corrected subscription version changes
                       MRR (mrr_daily_earliest_change): no fixed lookback, however late it landed.
    - base_date:   start - 1: the day whose MRR an incremental build continues from.
    - versions_cutoff: the versions landed on or before this day are read from the warehouse
                   copy (int_subscription_versions), later ones from the raw partitions
                   (mrr_subscription_versions); None on full builds (raw only).
    - incremental: whether this is an incremental build (the table exists, no --full-refresh).

    fct_mrr_daily passes its own is_incremental() (which unit tests can override); elsewhere
    (int_daily_mrr_changes) it is worked out from the relation through the graph, the same way.
#}
{% macro mrr_daily_window(incremental=none) -%}
    {%- set dt = modules.datetime -%}
    {%- set one_day = dt.timedelta(days=1) -%}
    {%- set world_start = _mrr_parse_date(env_var('TECHFLOW_WORLD_START', '2025-01-01'), 'TECHFLOW_WORLD_START') -%}
    {#- Declared at parse time (ref outside any `if execute`), so every caller depends on it. -#}
    {%- set versions = ref('int_subscription_versions') -%}
    {%- set raw_versions = ref('stg_app_db__subscription_versions') -%}

    {%- if var('max_date', none) -%}
        {%- set end = _mrr_parse_date(var('max_date'), 'var max_date') -%}
    {%- else -%}
        {%- set end = as_of_date() -%}
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

    {%- set newest = _mrr_daily_newest_day(existing) if incremental else none -%}
    {%- set versions_cutoff = none -%}
    {%- if not incremental -%}
        {%- set start = world_start -%}
    {%- elif newest is none -%}
        {#- An empty table (or a unit test's fixture): compute the requested window. -#}
        {%- set start = min_date or world_start -%}
    {%- else -%}
        {%- set candidates = [newest + one_day] -%}
        {%- if min_date is not none -%}
            {%- do candidates.append(min_date) -%}
        {%- endif -%}
        {#- Versions landed after this day are news to the table: everything after the newest
            day built, and from the requested partition on when an old one is rebuilt. -#}
        {%- set recheck_after = ([min_date - one_day, newest] | min) if min_date is not none else newest -%}
        {%- set kept_through = _subscription_versions_newest_landed(versions) -%}
        {%- set versions_cutoff = ([kept_through, recheck_after] | min) if kept_through else none -%}
        {%- set earliest_change = mrr_daily_earliest_change(versions_cutoff, recheck_after) -%}
        {%- if earliest_change is not none -%}
            {%- do candidates.append(earliest_change) -%}
        {%- endif -%}
        {%- set start = [candidates | min, world_start] | max -%}
        {%- set end = [end, newest] | max -%}
    {%- endif -%}

    {{ return({
        'world_start': world_start.isoformat(),
        'start': start.isoformat(),
        'end': end.isoformat(),
        'base_date': (start - one_day).isoformat(),
        'versions_cutoff': versions_cutoff.isoformat() if versions_cutoff else none,
        'incremental': incremental,
    }) }}
{%- endmacro %}


{#
    The earliest day on which the subscription versions landed after `recheck_after` change MRR,
    compared with the version each one replaces (the newest landed on or before that day); None
    when nothing changes. For each period that received a new version:
      - none before (a new period): its paid start;
      - customer, plan, seats or paid start changed: the earlier of the old and new paid start;
      - only the end changed: the earlier of the old and new end (an open end counts as later);
      - nothing that MRR reads changed (a status, e.g. past_due): no effect.
    Reads the versions as the build does (mrr_subscription_versions): no raw history.
#}
{% macro mrr_daily_earliest_change(versions_cutoff, recheck_after) -%}
    {%- if not execute or this is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sql -%}
        with

        versions as (
            {{ mrr_subscription_versions(versions_cutoff) }}
        ),

        newest_versions as (
            select *
            from versions
            where landed_date > cast('{{ recheck_after }}' as date)
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, loaded_at desc
            ) = 1
        ),

        replaced_versions as (
            select *
            from versions
            where
                landed_date <= cast('{{ recheck_after }}' as date)
                and subscription_id in (select subscription_id from newest_versions)
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, loaded_at desc
            ) = 1
        ),

        effects as (
            select
                case
                    when old.subscription_id is null then new.paid_start_date
                    when
                        old.customer_id is distinct from new.customer_id
                        or old.plan_id is distinct from new.plan_id
                        or old.quantity is distinct from new.quantity
                        or old.paid_start_date is distinct from new.paid_start_date
                        then least(old.paid_start_date, new.paid_start_date)
                    when old.ended_date is distinct from new.ended_date
                        then least(
                            coalesce(old.ended_date, new.ended_date),
                            coalesce(new.ended_date, old.ended_date)
                        )
                end as effective_from
            from newest_versions as new
            left join replaced_versions as old on new.subscription_id = old.subscription_id
        )

        select cast(min(effective_from) as varchar) from effects
    {%- endset -%}
    {%- set result = run_query(sql) -%}
    {%- set earliest = result.columns[0].values()[0] if result else none -%}
    {{ return(modules.datetime.date.fromisoformat(earliest) if earliest else none) }}
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
    exist (late data moved a churn earlier) would survive the merge. Runs in the model's
    transaction, so a failed build leaves the table as it was.
#}
{% macro mrr_daily_clear_window() -%}
    {%- if is_incremental() -%}
        {%- set window = mrr_daily_window(incremental=true) -%}
        delete from {{ this }}
        where date_day between cast('{{ window.start }}' as date) and cast('{{ window.end }}' as date)
    {%- endif -%}
{%- endmacro %}
