{#
    The share of rows matching `condition` is at most `max_share` (0..1). For drift that is not an
    error row by row but is when it grows: e.g. UTMs the utm_channel_mapping seed does not know
    fall into channel 'other'; a few are normal, a rising share means the seed needs a new row.
    Use with severity warn. Fails with one row giving the share; an empty model passes.

    Usage:  - expect_row_share_at_most:
                arguments: {condition: "channel = 'other'", max_share: 0.05}
                config: {severity: warn}
#}
{% test expect_row_share_at_most(model, condition, max_share) %}
    with counted as (
        select
            count(*) as total_rows,
            sum(case when {{ condition }} then 1 else 0 end) as matching_rows
        from {{ model }}
    )

    select
        total_rows,
        matching_rows,
        cast(matching_rows as {{ dbt.type_float() }}) / total_rows as matching_share
    from counted
    where total_rows > 0
        and cast(matching_rows as {{ dbt.type_float() }}) / total_rows > {{ max_share }}
{% endtest %}
