{#
    A daily-partitioned raw source has landed through the as-of day: each of the `days` days up to
    and including the as-of day (TECHFLOW_AS_OF) has its `date=YYYY-MM-DD` partition, even an
    empty one. This is what "the feed is recent" means for data that can be quiet: a Sunday with
    no usage events still lands its (empty) partition, while a stopped feed lands none. Fails with
    one row per missing day, naming the source table and its folder.

    Attached to the staging model that reads the source (source_relation names the source), not
    to the source itself: Dagster's dbt steps run a model's tests as its asset checks but skip
    source tests, and `dbt build` skips everything downstream of a failing model test, so a
    missing day stops the build before any mart changes, on every path (make run, Dagster, CLI).

    Applies to sources whose external_location reads `<folder>/*/*.parquet` (every raw table).

    Usage (on a staging model):  - expect_partitions_landed_through_as_of:
                                     arguments:
                                       source_relation: source('app_db', 'usage_events')
                                       days: 3
#}
{% test expect_partitions_landed_through_as_of(model, source_relation=none, days=1) %}
    {%- set relation = source_relation if source_relation is not none else model -%}
    {%- set match = modules.re.search("'([^']+)/[*]/[*][.]parquet'", relation | string) -%}
    {%- if target.type == 'duckdb' and execute and not match -%}
        {{ exceptions.raise_compiler_error(
            "expect_partitions_landed_through_as_of: cannot find the partition folder of " ~ relation
            ~ "; the source must read '<folder>/*/*.parquet'"
        ) }}
    {%- endif -%}
    {#- On a warehouse where a loader lands the raw tables (no Parquet folder), the partition key
        is the table's `date` column: a day with no row there has not landed. -#}
    {%- set folder = match.group(1) if match else relation | string -%}
    {%- set table_name = folder.rstrip('/').split('/')[-2:] | join('.') if match
        else relation.schema ~ '.' ~ relation.identifier -%}
    {%- set last_day = as_of_date() -%}
    {%- set first_day = last_day - modules.datetime.timedelta(days=(days | int) - 1) -%}

    with expected as (
        {{ date_spine_days("cast('" ~ first_day ~ "' as date)", "cast('" ~ last_day ~ "' as date)") }}
    ),

    landed as (
        {%- if match %}
        select distinct
            cast(regexp_extract(file, 'date=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date) as date_day
        from glob('{{ folder }}/date=*/*.parquet')
        {%- else %}
        select distinct cast(date as date) as date_day
        from {{ relation }}
        {%- endif %}
    )

    select
        '{{ table_name }}' as source_table,
        '{{ folder }}' as partition_folder,
        expected.date_day as missing_day
    from expected
    left join landed on expected.date_day = landed.date_day
    where landed.date_day is null
{% endtest %}
