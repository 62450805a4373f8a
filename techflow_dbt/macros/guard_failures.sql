{#
    How the raw-feed guards report. Each guard test builds a CTE `problems` — guard_level ('error'
    or 'warn') and problem (one sentence naming the source table, the partition day and the column
    or key) — and ends with `{{ guard_failures(headline) }}`, which adds the CTEs and the final
    select. The test's config maps the two levels onto dbt's severities in one test:

        {{ config(fail_calc=guard_fail_calc(), warn_if="!= 0", error_if=">= 1000000") }}

    - Error-level problems stop the build. On DuckDB the test raises them as its error message
      (at most `max_listed`, then "and N more"), so every path shows the cause in words: `dbt
      build`'s console, and in Dagster the step failure's "Errors parsed from dbt logs", e.g.
        Runtime Error in test expect_raw_files_match_contract_stg_app_db__users_... :
        Invalid Input Error: app_db.users: raw files break the contract: date=2026-06-14: ...
      Elsewhere the message is the failing row (`--store-failures` keeps it).
    - Warn-level problems are the test's rows: dbt warns, and the build goes on.
#}
{% macro guard_failures(headline, max_listed=10) -%}
    guard_errors as (

        select
            problem,
            row_number() over (order by problem) as problem_number,
            count(*) over () as n_problems
        from problems
        where guard_level = 'error'

    ),

    guard_message as (

        select
            '{{ headline | replace("'", "''") }}: '
            || {{ dbt.listagg('problem', "'; '", 'order by problem_number') }}
            || case
                when max(n_problems) > {{ max_listed }}
                    then '; and ' || cast(max(n_problems) - {{ max_listed }} as {{ dbt.type_string() }})
                    || ' more'
                else ''
            end as message
        from guard_errors
        where problem_number <= {{ max_listed }}
        having count(*) > 0

    )

    select
        guard_level,
        problem
    from problems
    where guard_level = 'warn'

    union all

    select
        'error' as guard_level,
        message as problem
    from guard_message
    where {{ guard_raise('message') }}
{%- endmacro %}


{#- The fail_calc that weighs an error-level row above any number of warn-level ones. -#}
{% macro guard_fail_calc() -%}
    coalesce(sum(case when guard_level = 'error' then 1000000 else 1 end), 0)
{%- endmacro %}


{#- A filter that raises `message` as the query's error where the warehouse can (DuckDB's error());
    elsewhere it keeps the row, and the test fails with the message as its failing row. -#}
{% macro guard_raise(message) -%}
    {{ return(adapter.dispatch('guard_raise', 'techflow')(message)) }}
{%- endmacro %}

{% macro default__guard_raise(message) -%}
    true
{%- endmacro %}

{% macro duckdb__guard_raise(message) -%}
    error({{ message }}) is null
{%- endmacro %}
