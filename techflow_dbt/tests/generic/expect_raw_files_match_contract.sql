{#
    Every landed file of a raw source against the raw contract (data_generation/schema.py, mirrored
    by the source's columns: `data_type`, `meta.added_later`). Reads the files' Parquet footers
    only. Per file:
      - error: a contract column is missing, unless it was added to the feed later
        (`added_later`) and the file landed before the first file that carries it;
      - error: a contract column has another type (e.g. user_id as varchar, a timestamp with a
        time zone or in nanoseconds);
      - warn: a column the contract does not know (the connector added one): tolerated — the
        sources read every file by name (union_by_name), so staging can select it once it is in
        the contract; until then nothing reads it.
    Errors name the table, the file's day and the column, and stop the build (guard_failures).

    A file that is not Parquet at all (truncated, zero bytes) fails before this test: the staging
    view binds every file's footer, and DuckDB's error names the file.

    On the staging model that reads the source (Dagster runs a model's tests as its asset checks,
    not a source's), so `dbt build` skips everything downstream of a broken feed.

    Usage (on a staging model):  - expect_raw_files_match_contract:
                                     arguments: {source_relation: source('app_db', 'users')}
#}
{% test expect_raw_files_match_contract(model, source_relation) %}
    {{ config(fail_calc=guard_fail_calc(), warn_if="!= 0", error_if=">= 1000000") }}
    {%- set feed = raw_feed(source_relation) -%}
    {%- set contract = raw_contract_columns(feed) -%}

    with

    contract as (
        {%- for column in contract %}
        select
            '{{ column.name }}' as column_name,
            '{{ column.data_type }}' as data_type,
            {{ 'true' if column.added_later else 'false' }} as added_later
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
        {%- if not contract %}
        select
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as data_type,
            false as added_later
        {%- endif %}
    ),

    file_columns as (
        {{ raw_file_columns(feed) }}
    ),

    files as (
        select distinct
            file_name,
            partition_day
        from file_columns
    ),

    first_carriers as (
        select
            column_name,
            min(partition_day) as first_day
        from file_columns
        group by column_name
    ),

    missing as (
        select
            files.partition_day,
            contract.column_name,
            contract.data_type
        from files
        cross join contract
        left join file_columns
            on
                files.file_name = file_columns.file_name
                and contract.column_name = file_columns.column_name
        left join first_carriers
            on contract.column_name = first_carriers.column_name
        where
            file_columns.column_name is null
            and not (
                contract.added_later
                and (first_carriers.first_day is null or files.partition_day < first_carriers.first_day)
            )
    ),

    retyped as (
        select
            file_columns.partition_day,
            file_columns.column_name,
            contract.data_type as contract_type,
            file_columns.data_type as file_type
        from file_columns
        inner join contract
            on file_columns.column_name = contract.column_name
        where file_columns.data_type <> contract.data_type
    ),

    new_columns as (
        select
            file_columns.column_name,
            min(file_columns.partition_day) as first_day,
            count(*) as n_files
        from file_columns
        left join contract
            on file_columns.column_name = contract.column_name
        where contract.column_name is null
        group by file_columns.column_name
    ),

    problems as (
        select
            'error' as guard_level,
            'date=' || cast(partition_day as {{ dbt.type_string() }})
            || ': column ' || column_name || ' (' || data_type || ') is missing' as problem
        from missing

        union all

        select
            'error' as guard_level,
            'date=' || cast(partition_day as {{ dbt.type_string() }})
            || ': column ' || column_name || ' is ' || file_type
            || ', the contract says ' || contract_type as problem
        from retyped

        union all

        select
            'warn' as guard_level,
            'new column ' || column_name || ' (not in the contract) in '
            || cast(n_files as {{ dbt.type_string() }}) || ' file(s) since date='
            || cast(first_day as {{ dbt.type_string() }}) as problem
        from new_columns
    ),

    {{ guard_failures(raw_feed_label(feed) ~ ': raw files break the contract (data_generation/schema.py)') }}
{% endtest %}
