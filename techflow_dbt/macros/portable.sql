{#
    Cross-database pieces dbt's own macros (dbt.dateadd, dbt.datediff, dbt.date_trunc, ...) do not
    cover, through adapter.dispatch so a new warehouse adds one `<adapter>__` macro instead of
    editing models. Proven on DuckDB (build) and PostgreSQL (tests/dbt/test_postgres_portability.py).
#}

{# ISO day of week, Monday = 1 .. Sunday = 7. #}
{% macro iso_day_of_week(expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'techflow')(expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(expression) -%}
    cast(extract(isodow from {{ expression }}) as integer)
{%- endmacro %}

{% macro snowflake__iso_day_of_week(expression) -%}
    dayofweekiso({{ expression }})
{%- endmacro %}


{# The Sunday that ends the ISO week (Monday..Sunday) of a date, as a date. #}
{% macro iso_week_end(expression) -%}
    cast({{ dbt.dateadd('day', '7 - ' ~ iso_day_of_week(expression), expression) }} as date)
{%- endmacro %}


{# A day offset as a window-frame bound over a date column: `range between <this> preceding`.
   There is no dbt macro for frame offsets; DuckDB and PostgreSQL accept a quoted interval. #}
{% macro days_offset(days) -%}
    {{ return(adapter.dispatch('days_offset', 'techflow')(days)) }}
{%- endmacro %}

{% macro default__days_offset(days) -%}
    interval '{{ days | int }} days'
{%- endmacro %}


{# A date shifted by whole days, as a date (dbt.dateadd returns a timestamp on some adapters). #}
{% macro add_days(days, expression) -%}
    cast({{ dbt.dateadd('day', days, expression) }} as date)
{%- endmacro %}


{# The median of a numeric expression (an aggregate). #}
{% macro median_of(expression) -%}
    {{ return(adapter.dispatch('median_of', 'techflow')(expression)) }}
{%- endmacro %}

{% macro default__median_of(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median_of(expression) -%}
    median({{ expression }})
{%- endmacro %}


{# An expression that fails the query with `message` (a SQL string expression) when evaluated:
   put it in the branch of a CASE that must never be reached, so a model stops at build time with
   a message naming what is wrong instead of writing a null or a guess. #}
{% macro raise_in_sql(message) -%}
    {{ return(adapter.dispatch('raise_in_sql', 'techflow')(message)) }}
{%- endmacro %}

{% macro duckdb__raise_in_sql(message) -%}
    error({{ message }})
{%- endmacro %}

{#- Elsewhere (PostgreSQL): casting the message to an integer fails with an error that quotes it. -#}
{% macro default__raise_in_sql(message) -%}
    cast({{ message }} as integer)
{%- endmacro %}


{# `expression` cast to `type`, or null where the value does not convert (DuckDB's try_cast):
   for identifiers that arrive as free text (Stripe metadata, CRM fields, Segment user_id).
   Not named safe_cast: a root-project macro of that name (and its default__ implementation)
   replaces dbt's own safe_cast, which dbt's unit tests cast every fixture value with, so every
   unit test failed to compile on PostgreSQL and DuckDB's fixtures were silently try_cast. #}
{% macro cast_or_null(expression, type) -%}
    {{ return(adapter.dispatch('cast_or_null', 'techflow')(expression, type)) }}
{%- endmacro %}

{% macro duckdb__cast_or_null(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}

{#- PostgreSQL has no try_cast and a failed cast aborts the query, so the text is checked first:
    a CASE evaluates its branches in order, so the cast only runs on text that converts. Integer
    types take decimal digits (signs and surrounding spaces allowed) within the type's range;
    DuckDB also rounds '1.5' and reads '1e3', '0x1F' and '1_000', which no key here holds.
    Another type stops the compile rather than casting without a guard. -#}
{% macro default__cast_or_null(expression, type) -%}
    {%- set integer_ranges = {
        'smallint': ('-32768', '32767'),
        'integer': ('-2147483648', '2147483647'),
        'int': ('-2147483648', '2147483647'),
        'bigint': ('-9223372036854775808', '9223372036854775807'),
    } -%}
    {%- set bounds = integer_ranges.get(type | lower | trim) -%}
    {%- if bounds is none -%}
        {{ exceptions.raise_compiler_error(
            "cast_or_null has no " ~ target.type ~ " implementation for type '" ~ type
            ~ "' (integer types only): add one to macros/portable.sql"
        ) }}
    {%- endif -%}
    case
        when cast({{ expression }} as text) !~ '^\s*[+-]?[0-9]+\s*$' then null
        when cast(trim(cast({{ expression }} as text)) as numeric)
            between {{ bounds[0] }} and {{ bounds[1] }}
            then cast(trim(cast({{ expression }} as text)) as {{ type }})
    end
{%- endmacro %}


{# A money amount rounded to `digits` decimals (cents by default). PostgreSQL has no
   round(double precision, integer): an amount that is a double there (a decimal divided by a
   double, such as a count of months from date_part) is rounded as numeric instead, which also
   rounds half away from zero exactly. DuckDB keeps its round(), so its figures do not move. #}
{% macro round_money(expression, digits=2) -%}
    {{ return(adapter.dispatch('round_money', 'techflow')(expression, digits)) }}
{%- endmacro %}

{% macro duckdb__round_money(expression, digits) -%}
    round({{ expression }}, {{ digits | int }})
{%- endmacro %}

{% macro default__round_money(expression, digits) -%}
    round(cast({{ expression }} as numeric), {{ digits | int }})
{%- endmacro %}


{# Calendar months from `first_date` to `second_date`: the month boundaries crossed, i.e. the
   difference of year * 12 + month, as a bigint (negative when second_date is earlier). 31 Jan
   -> 1 Feb is 1; 1 Jan -> 31 Jan is 0. The one definition of "months between" in the project:
   dbt.datediff('month') is this on DuckDB but returns a double from date_part on PostgreSQL and
   is defined per adapter elsewhere, so two engines could disagree on a cohort's month number. #}
{% macro months_between(first_date, second_date) -%}
    cast(
        (extract(year from {{ second_date }}) * 12 + extract(month from {{ second_date }}))
        - (extract(year from {{ first_date }}) * 12 + extract(month from {{ first_date }}))
        as bigint
    )
{%- endmacro %}
