-- The subscription periods fct_mrr_daily's rows are a function of, as of its last build: every
-- period of a (non-QA) customer with the inputs of its MRR. Grain: one row per subscription period.
--
-- fct_mrr_daily writes the record itself, in its post-hook and so in the same transaction as its
-- rows (mrr_daily_record_applied_periods: the two can never be committed apart), to the table
-- intermediate.fct_mrr_daily__applied_periods. Its next incremental build compares the periods
-- as they then stand with it and recomputes from the earliest day any difference touches
-- (mrr_daily_earliest_change). This view is that record as a dbt node: documented, in the lineage
-- downstream of fct_mrr_daily, and tested — assert_mrr_applied_periods_reproduce_fct_mrr_daily
-- fails if the table and the record ever disagree (fct_mrr_daily restored from a backup without
-- its record would otherwise make the next build skip changes without a word).
-- depends_on: {{ ref('fct_mrr_daily') }}
{{ config(materialized='view') }}

with

recorded as (

    select * from {{ mrr_applied_periods_relation() }}

),

final as (

    select
        subscription_id,
        customer_id,
        product,
        quantity,
        mrr,
        paid_start_date,
        ended_date

    from recorded

)

select * from final
