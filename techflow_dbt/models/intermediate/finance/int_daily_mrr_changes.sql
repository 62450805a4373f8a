-- The MRR step changes behind fct_mrr_daily: one row per customer x product x day on which
-- some period starts or stops counting. A period adds its MRR and seats on paid_start_date and
-- removes them on ended_date; a period that ends on or before its paid start (a trial canceled
-- before converting) never counts. Summing changes up to day D gives the MRR of D.
--
-- Each period is read at its newest version (mrr_current_periods: the warehouse copy of every
-- landed version, plus the raw partitions landed after it; raw alone on a full build), so a late
-- or corrected version is applied whenever it landed. Only changes up to the window's end are
-- kept; fct_mrr_daily uses those after its base date.
{%- set window = mrr_daily_window() %}

with

periods as (

    {{ mrr_current_periods(window.versions_cutoff) }}

),

paid_periods as (

    select *
    from periods
    where ended_date is null or ended_date > paid_start_date

),

steps as (

    select
        customer_id,
        product,
        paid_start_date as change_date,
        mrr as mrr_change,
        quantity as seats_change
    from paid_periods

    union all

    select
        customer_id,
        product,
        ended_date as change_date,
        -mrr as mrr_change,
        -quantity as seats_change
    from paid_periods
    where ended_date is not null

),

final as (

    select
        customer_id,
        product,
        change_date,
        sum(mrr_change) as mrr_change,
        sum(seats_change) as seats_change

    from steps
    where change_date <= cast('{{ window.end }}' as date)
    group by customer_id, product, change_date

)

select * from final
