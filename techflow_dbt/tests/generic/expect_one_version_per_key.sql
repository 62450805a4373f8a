{#
    Each key (e.g. subscription_id + updated_at) has one version: rows that share the key agree on
    every column of version_columns. Identical re-landed copies pass; two different contents for
    the same key fail, naming the key, because no reader could tell which one is true.

    Usage:  - expect_one_version_per_key:
                arguments:
                  key_columns: [subscription_id, updated_at]
                  version_columns: [customer_id, plan_id, quantity, ended_at]
#}
{% test expect_one_version_per_key(model, key_columns, version_columns) %}
    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        count(distinct {{ generate_surrogate_key(version_columns) }}) as n_versions
    from {{ model }}
    group by {% for column in key_columns %}{{ column }}{{ ", " if not loop.last }}{% endfor %}
    having count(distinct {{ generate_surrogate_key(version_columns) }}) > 1
{% endtest %}
