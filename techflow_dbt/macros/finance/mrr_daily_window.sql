{#
    The date window one build of fct_mrr_daily computes, shared by fct_mrr_daily, its pre-hook and
    int_daily_mrr_changes so all three agree. Returns a dict of ISO date strings:

    - world_start: first day of the world (world_start_date(): TECHFLOW_WORLD_START, else the
                   `world_start` var).
    - end:         last day built: max_date (mrr_window_bound), else the as-of day (TECHFLOW_AS_OF, default
                   yesterday UTC). An incremental build never ends before the newest day already
                   built: rebuilding an old partition carries its changes forward to that day.
    - start:       first day (re)computed. A full build starts at world_start. An incremental
                   build starts at the earliest of:
                     * min_date (the requested partition; mrr_window_bound), else the day after the newest built;
                     * the day after the newest built (a skipped partition leaves no gap);
                     * the earliest day on which MRR as the subscription periods now stand differs
                       from what the table was built from (mrr_daily_earliest_change): no fixed
                       lookback, however late a change landed, whatever it was.
    - base_date:   start - 1: the day whose MRR an incremental build continues from.
    - versions_cutoff: the versions landed on or before this day are read from the warehouse
                   copy (int_subscription_versions), later ones from the raw partitions
                   (mrr_subscription_versions); None on full builds (raw only).
    - incremental: whether this is an incremental build (the table exists, no --full-refresh).

    fct_mrr_daily passes its own is_incremental() (which unit tests can override); elsewhere
    (int_daily_mrr_changes) it is worked out from the relation through the graph, the same way.
    check_changes=false skips the comparison (the post-hook only needs versions_cutoff).
#}
{% macro mrr_daily_window(incremental=none, check_changes=true) -%}
    {%- set dt = modules.datetime -%}
    {%- set one_day = dt.timedelta(days=1) -%}
    {%- set world_start = _mrr_parse_date(env_var('TECHFLOW_WORLD_START', var('world_start')), 'TECHFLOW_WORLD_START') -%}
    {#- Declared at parse time (ref outside any `if execute`), so every caller depends on it. -#}
    {%- set versions = ref('int_subscription_versions') -%}
    {%- set raw_versions = ref('stg_app_db__subscription_versions') -%}

    {%- set max_date_raw = mrr_window_bound('max_date') -%}
    {%- if max_date_raw -%}
        {%- set end = _mrr_parse_date(max_date_raw, 'max_date') -%}
    {%- else -%}
        {%- set end = as_of_date() -%}
    {%- endif -%}
    {%- set min_date_raw = mrr_window_bound('min_date') -%}
    {%- if min_date_raw -%}
        {%- set min_date = _mrr_parse_date(min_date_raw, 'min_date') -%}
        {%- if min_date > end -%}
            {{ exceptions.raise_compiler_error(
                "fct_mrr_daily: min_date " ~ min_date ~ " is after max_date " ~ end
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

    {%- set newest = _newest_date_in(existing, 'date_day') if incremental else none -%}
    {%- set versions_cutoff = none -%}
    {%- if not incremental -%}
        {%- set start = world_start -%}
    {%- elif newest is none -%}
        {#- A unit test's fixture computes the requested window; an empty table, everything. -#}
        {%- set start = (min_date or world_start) if existing is string else world_start -%}
    {%- else -%}
        {%- set candidates = [newest + one_day] -%}
        {%- if min_date is not none -%}
            {%- do candidates.append(min_date) -%}
        {%- endif -%}
        {#- Versions landed after this day come from the raw partitions, the rest from the
            warehouse copy: from the requested partition on when an old one is rebuilt (it may
            have been re-landed), else after the newest day built; never past the copy's end. -#}
        {%- set reread_after = ([min_date - one_day, newest] | min) if min_date is not none else newest -%}
        {%- set kept_through = _newest_date_in(versions, 'landed_date') -%}
        {%- set versions_cutoff = ([kept_through, reread_after] | min) if kept_through else none -%}
        {%- set earliest_change = mrr_daily_earliest_change(versions_cutoff, world_start) if check_changes else none -%}
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
    The earliest day on which MRR as the current subscription periods imply it
    (mrr_current_periods) differs from what fct_mrr_daily was last built from (the periods its
    post-hook recorded); None when nothing differs. For each period:
      - new (not recorded): its paid start;
      - gone (recorded, no longer current: a removed raw row, a user turned QA): its paid start;
      - customer, product, seats, MRR or paid start changed: the earlier of the two paid starts;
      - only the end changed: the earlier of the two ends (an open end counts as later);
      - nothing that MRR reads changed (a status, e.g. past_due): no effect.
    So a late row, a correction, a re-landed partition or a plan price change all recompute
    exactly the days they change. With nothing recorded (the first build after an upgrade, or the
    record dropped), everything is recomputed: world_start.
#}
{% macro mrr_daily_earliest_change(versions_cutoff, world_start) -%}
    {%- if not execute or this is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set applied = mrr_applied_periods_relation() -%}
    {%- if adapter.get_relation(applied.database, applied.schema, applied.identifier) is none -%}
        {{ return(world_start) }}
    {%- endif -%}
    {%- set sql -%}
        with

        current_periods as (
            {{ mrr_current_periods(versions_cutoff) }}
        ),

        changes as (
            select
                case
                    when applied.subscription_id is null then current_periods.paid_start_date
                    when current_periods.subscription_id is null then applied.paid_start_date
                    when
                        applied.customer_id is distinct from current_periods.customer_id
                        or applied.product is distinct from current_periods.product
                        or applied.quantity is distinct from current_periods.quantity
                        or applied.mrr is distinct from current_periods.mrr
                        or applied.paid_start_date is distinct from current_periods.paid_start_date
                        then least(applied.paid_start_date, current_periods.paid_start_date)
                    when applied.ended_date is distinct from current_periods.ended_date
                        then least(
                            coalesce(applied.ended_date, current_periods.ended_date),
                            coalesce(current_periods.ended_date, applied.ended_date)
                        )
                end as effective_from
            from current_periods
            full outer join {{ applied }} as applied
                on current_periods.subscription_id = applied.subscription_id
        )

        select cast(min(effective_from) as varchar) from changes
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


{#- The newest value of a date column of a table, as a date; None while parsing, for a unit
    test's fixture (`this` is then a CTE name, not a table), a missing table or an empty one. -#}
{% macro _newest_date_in(relation, column) -%}
    {%- if not execute or relation is none or relation is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select cast(max(" ~ column ~ ") as varchar) from " ~ relation) -%}
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


{#
    One bound of the requested window, 'min_date' or 'max_date' (an ISO date string, or none):
    the dbt var of that name (`--vars '{"min_date": ..., "max_date": ...}'`, as a person runs
    dbt), else, only while executing, the environment variable TECHFLOW_MRR_MIN_DATE /
    TECHFLOW_MRR_MAX_DATE (as Dagster passes a partition window).

    Why two ways: `--vars` are part of dbt's partial-parse state, so every new window forces a
    full re-parse of the project; an env_var() read while parsing is recorded too and
    re-parses the files that read it. Read only under `execute`, the environment variable never
    reaches the parse, so every Dagster step reuses the prepared parse.
#}
{% macro mrr_window_bound(name) -%}
    {%- set value = var(name, none) -%}
    {%- if not value and execute -%}
        {%- set value = env_var('TECHFLOW_MRR_' ~ (name | upper), '') | trim -%}
    {%- endif -%}
    {{ return(value or none) }}
{%- endmacro %}
