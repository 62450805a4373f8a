{#
    Tests sized to the change. On a daily run (a partition window is requested: the dbt var
    min_date, or TECHFLOW_MRR_MIN_DATE as Dagster passes it) the data tests of a model that
    declares a window column (config meta `window_column`, with its `lookback`) read only the
    days that run recomputed; on a full build, `--full-refresh` and the weekly job (no window) they
    read the whole table. Primary-key tests (PRIMARY_KEY_TESTS) always read the whole table: a
    key duplicated across the window's edge is still a duplicate.

    dbt renders a test's `where` config when it parses the YAML, so a window read only while
    executing cannot be written there; dbt's documented way to filter tests at run time is to
    override get_where_subquery, which every generic test calls on the relation it tests. This
    override adds the window to whatever `where` the test has.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window = _test_window_condition(relation) -%}
    {%- if window -%}
        {%- do conditions.append(window) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#
    The rows a model's window covers, as a boolean SQL expression over `date_column`: on or after
    the requested partition's first day moved back `lookback` days (the window the model's
    incremental build recomputes at least), or `1=1` when no window is requested.
#}
{% macro window_filter(date_column, lookback=0) -%}
    {%- set start = requested_window_start(lookback) -%}
    {%- if start is none -%}
        1=1
    {%- else -%}
        {{ date_column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- The requested partition's first day moved back `lookback` days (a date), or none when no
    window is requested or while parsing. -#}
{% macro requested_window_start(lookback=0) -%}
    {%- set min_date_raw = mrr_window_bound('min_date') if execute else none -%}
    {%- if not min_date_raw -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set min_date = _mrr_parse_date(min_date_raw, 'min_date') -%}
    {{ return(min_date - modules.datetime.timedelta(days=lookback | int)) }}
{%- endmacro %}


{#- A generic test's window condition: none for a primary-key test, for a test of a model without
    `window_column`, or while parsing. -#}
{% macro _test_window_condition(relation) -%}
    {%- if not execute or relation is string or model.resource_type != 'test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set test_name = (model.test_metadata or {}).get('name') -%}
    {%- if test_name in _primary_key_tests() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = _tested_model(relation) -%}
    {%- set column = (tested.config.meta or {}).get('window_column') if tested else none -%}
    {%- if not column -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(window_filter(column, tested.config.get('lookback') or 0)) }}
{%- endmacro %}


{#- PRIMARY_KEY_TESTS: the tests that state a primary key; they read the whole table. -#}
{% macro _primary_key_tests() -%}
    {{ return(['unique', 'expect_compound_columns_to_be_unique']) }}
{%- endmacro %}


{#- The model a generic test is attached to (its node in the graph), or none (a source, a seed). -#}
{% macro _tested_model(relation) -%}
    {%- set node = graph.nodes.get(model.attached_node or '') -%}
    {{ return(node if node and node.resource_type == 'model' else none) }}
{%- endmacro %}
