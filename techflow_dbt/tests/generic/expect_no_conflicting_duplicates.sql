{#
    No two raw rows share a key and version but disagree: a conflicting duplicate. Connectors
    deliver at least once, so an identical copy of a row (even in a later partition, with a later
    _loaded_at) is normal and staging keeps one; two *different* contents for one version are not —
    staging would silently keep one of them (two ad-spend rows for one campaign-day, two Segment
    messages with one message_id, two Salesforce versions with one updated_at), and no reader could
    tell which is true. Errors name the source table, the key and the partitions the versions
    landed in, and stop the build (guard_failures).

    - key_columns: the natural key (expressions allowed, e.g. "lower(trim(channel))" where staging
      normalizes before it dedupes).
    - version_column: what orders versions of one key in a change extract (updated_at; for ad
      spend the export's _loaded_at, as a restated day is a newer export); none for events, whose
      id is the whole identity.
    - content_columns: what must agree; default every contract column but the key, the version
      and _loaded_at (when the copy landed is not content).

    Only keys that occur more than once are hashed (a grouping over the key first), which keeps
    the cost near a unique test's: 0.6 s for the 5.7 M usage events of the default world.

    Usage (on a staging model):
        - expect_no_conflicting_duplicates:
            arguments:
              source_relation: source('salesforce', 'accounts')
              key_columns: [account_id]
              version_column: updated_at
#}
{% test expect_no_conflicting_duplicates(
    model, source_relation, key_columns, version_column=none, content_columns=none
) %}
    {{ config(fail_calc=guard_fail_calc(), warn_if="!= 0", error_if=">= 1000000") }}
    {%- set feed = raw_feed(source_relation) -%}
    {%- set identity = key_columns + ([version_column] if version_column else []) -%}
    {%- set excluded = identity + ['_loaded_at'] -%}
    {%- if content_columns is none -%}
        {%- set content_columns = raw_contract_columns(feed)
            | map(attribute='name') | reject('in', excluded) | list -%}
    {%- endif -%}
    {%- set content_fields = [] -%}
    {%- for column in content_columns -%}
        {%- do content_fields.append('keyed.guard_content_' ~ loop.index) -%}
    {%- endfor -%}

    with

    source as (
        select * from {{ source_relation }}
    ),

    keyed as (
        select
            {%- for column in identity %}
            {{ column }} as guard_key_{{ loop.index }},
            {%- endfor %}
            {%- for column in content_columns %}
            {{ column }} as guard_content_{{ loop.index }},
            {%- endfor %}
            cast(date as {{ dbt.type_string() }}) as landed_day
        from source
    ),

    repeated as (
        select
            {%- for column in identity %}
            guard_key_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from keyed
        group by
            {%- for column in identity %}
            guard_key_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        having count(*) > 1
    ),

    versions as (
        select
            {%- for column in identity %}
            keyed.guard_key_{{ loop.index }},
            {%- endfor %}
            keyed.landed_day,
            {{ generate_surrogate_key(content_fields) if execute else "''" }} as content_hash
        from keyed
        inner join repeated
            on
            {%- for column in identity %}
                keyed.guard_key_{{ loop.index }} = repeated.guard_key_{{ loop.index }}
                {{- ' and' if not loop.last }}
            {%- endfor %}
    ),

    conflicts as (
        select
            {%- for column in identity %}
            guard_key_{{ loop.index }},
            {%- endfor %}
            count(distinct content_hash) as n_contents,
            min(landed_day) as first_landed,
            max(landed_day) as last_landed
        from versions
        group by
            {%- for column in identity %}
            guard_key_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        having count(distinct content_hash) > 1
    ),

    problems as (
        select
            'error' as guard_level,
            {%- for column in identity %}
            '{{ modules.re.sub("^.*[(]([a-z_0-9]+)[)].*$", "\\1", column) }}='
            || coalesce(cast(guard_key_{{ loop.index }} as {{ dbt.type_string() }}), 'null')
            || {{ "', '" if not loop.last else "': '" }} ||
            {%- endfor %}
            cast(n_contents as {{ dbt.type_string() }}) || ' different contents, landed in date='
            || first_landed
            || case when last_landed <> first_landed then ' and date=' || last_landed else '' end
            as problem
        from conflicts
    ),

    {{ guard_failures(raw_feed_label(feed) ~ ': conflicting duplicates (same key and version, different content)') }}
{% endtest %}
