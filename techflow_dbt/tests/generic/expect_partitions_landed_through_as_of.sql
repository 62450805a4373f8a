{#
    A daily-partitioned raw source has landed through the as-of day: each of the `days` days up to
    and including the as-of day (TECHFLOW_AS_OF) has its `date=YYYY-MM-DD` partition, even an
    empty one. This is what "the feed is recent" means for data that can be quiet: a Sunday with
    no usage events still lands its (empty) partition, while a stopped feed lands none. Fails with
    one row per missing day, naming the source's folder.

    Applies to sources whose external_location reads `<folder>/*/*.parquet` (every raw table).

    Usage (on a source table):  - expect_partitions_landed_through_as_of:
                                    arguments: {days: 2}
#}
{% test expect_partitions_landed_through_as_of(model, days=1) %}
    {%- set match = modules.re.search("'([^']+)/[*]/[*][.]parquet'", model | string) -%}
    {%- if execute and not match -%}
        {{ exceptions.raise_compiler_error(
            "expect_partitions_landed_through_as_of: cannot find the partition folder of " ~ model
            ~ "; the source must read '<folder>/*/*.parquet'"
        ) }}
    {%- endif -%}
    {%- set folder = match.group(1) if match else 'unparsed' -%}
    {%- set last_day = as_of_date() -%}
    {%- set first_day = last_day - modules.datetime.timedelta(days=(days | int) - 1) -%}

    with expected as (
        {{ date_spine_days("cast('" ~ first_day ~ "' as date)", "cast('" ~ last_day ~ "' as date)") }}
    ),

    landed as (
        select distinct
            cast(regexp_extract(file, 'date=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date) as date_day
        from glob('{{ folder }}/date=*/*.parquet')
    )

    select
        '{{ folder }}' as partition_folder,
        expected.date_day as missing_day
    from expected
    left join landed on expected.date_day = landed.date_day
    where landed.date_day is null
{% endtest %}
