{#
    The platform's one clock (TECHFLOW_AS_OF): the as-of day is the last complete
    day the warehouse is built through; "now" for every recency or "currently" rule is the end of
    that day (as-of + 1 day, 00:00 UTC, exclusive). Unset, the as-of day is yesterday (UTC) —
    this macro is the only place the dbt project reads the wall clock. Dagster and `make run`
    pin TECHFLOW_AS_OF before starting dbt, so a run that crosses midnight keeps one day.
#}
{% macro as_of_date() -%}
    {%- set raw = env_var('TECHFLOW_AS_OF', '') | trim -%}
    {%- if raw -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', raw) -%}
            {{ exceptions.raise_compiler_error(
                "TECHFLOW_AS_OF='" ~ raw ~ "' is not an ISO date (YYYY-MM-DD); set it like "
                ~ "2026-06-14 or unset it to use yesterday (UTC)."
            ) }}
        {%- endif -%}
        {{ return(modules.datetime.date.fromisoformat(raw)) }}
    {%- endif -%}
    {{ return(modules.datetime.datetime.now(modules.pytz.utc).date() - modules.datetime.timedelta(days=1)) }}
{%- endmacro %}


{# The as-of day as a SQL date literal. #}
{% macro as_of_day() -%}
    cast('{{ as_of_date().isoformat() }}' as date)
{%- endmacro %}


{# "Now" by the platform clock: the end of the as-of day, a naive UTC timestamp like every raw
   timestamp here (the first instant after the as-of day). #}
{% macro as_of_end() -%}
    cast('{{ (as_of_date() + modules.datetime.timedelta(days=1)).isoformat() }} 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#
    Source freshness by the platform clock: a source's age is measured from the end of the as-of
    day, not from the wall clock, so "loaded through the as-of day" is what `dbt source freshness`
    checks, and a fixed TECHFLOW_AS_OF gives the same verdict whenever it runs. Overrides dbt's
    default__collect_freshness (dbt searches the root project first for its dispatched macros).
#}
{% macro default__collect_freshness(source, loaded_at_field, filter) %}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            {{ as_of_end() }} as snapshotted_at
        from {{ source }}
        {% if filter %}
        where {{ filter }}
        {% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}


{# The world's first day (TECHFLOW_WORLD_START, default the `world_start` var of dbt_project.yml), the first daily partition of
   every raw feed: a build reads every partition from it through the as-of day. #}
{% macro world_start_date() -%}
    {%- set raw = env_var('TECHFLOW_WORLD_START', var('world_start')) | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', raw) -%}
        {{ exceptions.raise_compiler_error(
            "TECHFLOW_WORLD_START='" ~ raw ~ "' is not an ISO date (YYYY-MM-DD), e.g. " ~ var('world_start') ~ "."
        ) }}
    {%- endif -%}
    {{ return(modules.datetime.date.fromisoformat(raw)) }}
{%- endmacro %}


{# The `world_start` var of dbt_project.yml as a date: the world's first day when
   TECHFLOW_WORLD_START is unset. Reads no environment variable: the generic tests render it while
   dbt parses (execute is false), so the prepared parse is not tied to one environment. #}
{% macro world_start_default() -%}
    {{ return(modules.datetime.date.fromisoformat(var('world_start'))) }}
{%- endmacro %}
