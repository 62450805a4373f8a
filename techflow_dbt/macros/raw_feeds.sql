{#
    The raw feeds as landed files: what the raw-feed guards (tests/generic/expect_raw_files_*,
    expect_partitions_*, expect_no_conflicting_duplicates) read besides the rows themselves.

    A raw source reads '<folder>/*/*.parquet', one hive partition `date=YYYY-MM-DD` per landed day
    (data_generation/schema.py). Files are described from their Parquet footers only (columns,
    types, row counts): DuckDB's parquet_schema / parquet_file_metadata open each file's footer and
    scan no data, so describing every file stays cheap as days pile up. On a warehouse where a
    loader lands the raw tables instead (no Parquet folder), the same macros read the loaded table:
    its `date` column is the partition and information_schema its columns, so the guards still
    compile and mean the same.
#}

{#- The source behind a relation: its name ('app_db.users'), its partition folder (none for a
    loaded table) and its source node (columns with the contract's data types). -#}
{% macro raw_feed(relation) -%}
    {%- set match = modules.re.search("'([^']+)/[*]/[*][.]parquet'", relation | string) -%}
    {%- set node = none -%}
    {%- if execute -%}
        {%- set nodes = graph.sources.values()
            | selectattr('schema', 'equalto', relation.schema)
            | selectattr('identifier', 'equalto', relation.identifier)
            | list -%}
        {%- set node = nodes[0] if nodes else none -%}
    {%- endif -%}
    {{ return({
        'name': (node.source_name ~ '.' ~ node.name) if node else relation.schema ~ '.' ~ relation.identifier,
        'folder': match.group(1) if match else none,
        'node': node,
        'relation': relation,
    }) }}
{%- endmacro %}


{#- How a guard names a feed in its message: the source table and, for files, their folder. -#}
{% macro raw_feed_label(feed) -%}
    {{ return(feed.name ~ (' (' ~ feed.folder ~ ')' if feed.folder else '')) }}
{%- endmacro %}


{#- The day of a partition file, from its `date=YYYY-MM-DD` folder. -#}
{% macro raw_partition_day(file_name) -%}
    cast({{ dbt.split_part(dbt.split_part(file_name, "'date='", 2), "'/'", 1) }} as date)
{%- endmacro %}


{#- One row per landed partition file: file_name, partition_day, num_rows (from the footer). -#}
{% macro raw_landed_files(feed) -%}
    {%- if feed.folder -%}
        select
            file_name,
            {{ raw_partition_day('file_name') }} as partition_day,
            num_rows
        from parquet_file_metadata('{{ feed.folder }}/date=*/*.parquet')
    {%- else -%}
        select
            '{{ feed.name }} date=' || cast(date as {{ dbt.type_string() }}) as file_name,
            cast(date as date) as partition_day,
            count(*) as num_rows
        from {{ feed.relation }}
        group by date
    {%- endif -%}
{%- endmacro %}


{#- The days that landed, without opening a file (a directory listing on DuckDB). -#}
{% macro raw_landed_days(feed) -%}
    {%- if feed.folder -%}
        select distinct {{ raw_partition_day('file') }} as partition_day
        from glob('{{ feed.folder }}/date=*/*.parquet')
    {%- else -%}
        select distinct cast(date as date) as partition_day
        from {{ feed.relation }}
    {%- endif -%}
{%- endmacro %}


{#- One row per column of each landed file: file_name, partition_day, column_name, data_type
    (lower-case DuckDB type names, as the sources' data_type spells them). -#}
{% macro raw_file_columns(feed) -%}
    {%- if feed.folder -%}
        select
            file_name,
            {{ raw_partition_day('file_name') }} as partition_day,
            name as column_name,
            lower(duckdb_type) as data_type
        from parquet_schema('{{ feed.folder }}/date=*/*.parquet')
        -- column 0 is the schema's root element, not a column
        where column_id > 0
    {%- else -%}
        select
            '{{ feed.name }}' as file_name,
            cast(null as date) as partition_day,
            column_name,
            case lower(data_type)
                when 'character varying' then 'varchar'
                when 'text' then 'varchar'
                when 'timestamp without time zone' then 'timestamp'
                else lower(data_type)
            end as data_type
        from information_schema.columns
        where table_schema = '{{ feed.relation.schema }}'
            and table_name = '{{ feed.relation.identifier }}'
            and column_name <> 'date'
    {%- endif -%}
{%- endmacro %}


{#- The raw contract of a source as its YAML states it (mirroring data_generation/schema.py):
    [{name, data_type, added_later}], without the hive key `date`, which is not in the files. -#}
{% macro raw_contract_columns(feed) -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- if feed.node is none -%}
            {{ exceptions.raise_compiler_error(
                "raw contract: no dbt source reads " ~ feed.relation ~ "; point the test at source('<system>', '<table>')"
            ) }}
        {%- endif -%}
        {%- for column in feed.node.columns.values() if column.name != 'date' -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error(
                    "raw contract: source " ~ feed.name ~ " column " ~ column.name
                    ~ " has no data_type; copy it from data_generation/schema.py"
                ) }}
            {%- endif -%}
            {%- do columns.append({
                'name': column.name,
                'data_type': column.data_type | lower,
                'added_later': ((column.config or {}).get('meta') or {}).get('added_later', false),
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}
