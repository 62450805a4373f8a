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
    {%- set min_date_raw = mrr_window_bound('min_date') -%}
    {%- if min_date_raw -%}
        {%- do candidates.append(_mrr_parse_date(min_date_raw, 'min_date')) -%}
    {%- endif -%}
    {%- set start = (candidates | min) - modules.datetime.timedelta(days=lookback | int) -%}
    {{ return(start.isoformat()) }}
{%- endmacro %}


{# The model's filter for its window: `true` when everything is recomputed. #}
{% macro incremental_window_filter(date_column) -%}
    {%- set start = incremental_window_start(date_column) -%}
    {%- if start is none -%}
        true
    {%- else -%}
        {{ date_column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}


{#
    Pre-hook of a model built with incremental_window_start: drop the rows of the window about to
    be recomputed, so a row that should no longer exist (a re-landed partition withdrew an event)
    does not survive; the model then appends the window. Runs in the model's transaction, so a
    failed build leaves the table as it was.
#}
{% macro incremental_window_clear(date_column) -%}
    {%- set start = incremental_window_start(date_column) -%}
    {%- if start is not none -%}
        delete from {{ this }} where {{ date_column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}
