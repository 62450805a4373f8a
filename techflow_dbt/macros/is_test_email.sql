{#
    True for internal QA accounts, which every mart excludes: addresses at the reserved
    `techflow.test` domain (the generator's and the QA team's convention). One definition, so
    app users and Stripe customers are filtered by the same rule.
#}
{% macro is_test_email(column_name) -%}
    coalesce(lower(trim({{ column_name }})) like '%@techflow.test', false)
{%- endmacro %}
