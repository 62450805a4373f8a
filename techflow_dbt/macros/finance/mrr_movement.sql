{#
    The MRR movement of a day, from the previous day's MRR, the day's MRR and whether the grain
    (customer x product, or customer) had paid before that day. One definition for the
    product-level fct_mrr_daily and the customer-level fct_customer_mrr_daily
    (models/METRICS.md, "Movement").

    No else: a case none of the rules covers (e.g. a negative MRR) stays null, so the not_null
    test on movement can fail instead of hiding it as 'unchanged'.
#}
{% macro mrr_movement(previous_mrr, mrr, paid_before_day) %}
    case
        when {{ previous_mrr }} = 0 and {{ mrr }} > 0 and not {{ paid_before_day }} then 'new'
        when {{ previous_mrr }} = 0 and {{ mrr }} > 0 then 'reactivation'
        when {{ previous_mrr }} > 0 and {{ mrr }} > {{ previous_mrr }} then 'expansion'
        when
            {{ previous_mrr }} > 0 and {{ mrr }} > 0 and {{ mrr }} < {{ previous_mrr }}
            then 'contraction'
        when {{ previous_mrr }} > 0 and {{ mrr }} = 0 then 'churn'
        when {{ mrr }} = {{ previous_mrr }} then 'unchanged'
    end
{% endmacro %}
