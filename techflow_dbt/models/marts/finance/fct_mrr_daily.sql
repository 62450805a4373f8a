-- Daily MRR. Grain: one row per customer x product x day, gap-free from the customer's first
-- paid day of the product for as long as it has MRR, plus the day it drops to zero (the churn
-- row). previous_mrr is the day before's MRR; movement classifies the change, in this order:
-- new, reactivation, expansion, contraction, churn, unchanged (no else: unclassified is null).
--
-- Incremental: merge on mrr_daily_id over the window of mrr_daily_window() — from var min_date
-- (or the day after the newest day built), widened back to the earliest day on which the
-- subscription periods now differ from those the table was built from (recorded by the
-- post-hook in intermediate.fct_mrr_daily__applied_periods), through var max_date (or the
-- as-of day) and never short of the newest day built. So an incremental build always equals a
-- full refresh over the same raw data, however late a change lands. The window continues from
-- each pair's MRR on the day before (read from this table), and no raw history is read.
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='mrr_daily_id',
        on_schema_change='fail',
        incremental_predicates=[
            'DBT_INTERNAL_DEST.date_day = DBT_INTERNAL_SOURCE.date_day',
        ],
        pre_hook="{{ mrr_daily_clear_window() }}",
        post_hook="{{ mrr_daily_record_applied_periods() }}",
    )
}}
{%- set window = mrr_daily_window(incremental=is_incremental()) %}

with

mrr_changes as (

    select * from {{ ref('int_daily_mrr_changes') }}

),

window_days as (

    {{ date_spine_days(
        "cast('" ~ window.start ~ "' as date)",
        "cast('" ~ window.end ~ "' as date)",
    ) }}

),

-- A window that starts on the world's first day has nothing to continue from: it is computed
-- as a full build computes it.
{% if is_incremental() and window.start > window.world_start -%}

-- Each pair's state on base_date, from the rows already built.
base_state as (

    select
        customer_id,
        product,
        mrr as base_mrr,
        seats as base_seats
    from {{ this }}
    where date_day = cast('{{ window.base_date }}' as date) and mrr > 0

),

-- Pairs that had MRR on some day up to base_date, so that a return is a reactivation. Such
-- a pair either still has MRR on base_date (base_state) or dropped to zero on a day up to it,
-- which left its churn row (mrr = 0). Only pairs that start paying inside the window need the
-- answer, so only their churn rows are looked up: no scan of every pair's whole history.
previously_paid as (

    select
        customer_id,
        product
    from base_state

    union

    select
        built.customer_id,
        built.product
    from {{ this }} as built
    inner join (
        select distinct
            customer_id,
            product
        from mrr_changes
        where change_date > cast('{{ window.base_date }}' as date)
    ) as starting
        on
            built.customer_id = starting.customer_id
            and built.product = starting.product
    where built.date_day <= cast('{{ window.base_date }}' as date) and built.mrr = 0

),

{% else -%}

base_state as (

    select
        customer_id,
        product,
        sum(mrr_change) as base_mrr,
        sum(seats_change) as base_seats
    from mrr_changes
    where change_date <= cast('{{ window.base_date }}' as date)
    group by customer_id, product
    having sum(mrr_change) > 0

),

previously_paid as (

    select distinct
        customer_id,
        product
    from mrr_changes
    where change_date <= cast('{{ window.base_date }}' as date) and mrr_change > 0

),

{%- endif %}

window_changes as (

    select *
    from mrr_changes
    where change_date > cast('{{ window.base_date }}' as date)

),

-- Every pair that has MRR entering the window or changes inside it, with the first day it
-- needs a row: the window start if it carries MRR in, else its first change.
pairs as (

    select
        customer_id,
        product,
        min(first_day) as first_day
    from (
        select
            customer_id,
            product,
            cast('{{ window.start }}' as date) as first_day
        from base_state
        union all
        select
            customer_id,
            product,
            change_date as first_day
        from window_changes
    ) as candidates
    group by customer_id, product

),

pair_days as (

    select
        pairs.customer_id,
        pairs.product,
        window_days.date_day
    from pairs
    inner join window_days on pairs.first_day <= window_days.date_day

),

running as (

    select
        pair_days.customer_id,
        pair_days.product,
        pair_days.date_day,
        coalesce(base_state.base_mrr, 0) + sum(coalesce(window_changes.mrr_change, 0)) over (
            partition by pair_days.customer_id, pair_days.product
            order by pair_days.date_day
            rows between unbounded preceding and current row
        ) as mrr,
        coalesce(base_state.base_seats, 0) + sum(coalesce(window_changes.seats_change, 0)) over (
            partition by pair_days.customer_id, pair_days.product
            order by pair_days.date_day
            rows between unbounded preceding and current row
        ) as seats,
        previously_paid.customer_id is not null as paid_before_window

    from pair_days
    left join window_changes
        on
            pair_days.customer_id = window_changes.customer_id
            and pair_days.product = window_changes.product
            and pair_days.date_day = window_changes.change_date
    left join base_state
        on
            pair_days.customer_id = base_state.customer_id
            and pair_days.product = base_state.product
    left join previously_paid
        on
            pair_days.customer_id = previously_paid.customer_id
            and pair_days.product = previously_paid.product

),

with_previous as (

    select
        running.*,
        coalesce(
            lag(running.mrr) over (
                partition by running.customer_id, running.product order by running.date_day
            ),
            coalesce(base_state.base_mrr, 0)
        ) as previous_mrr,
        -- Did the pair have MRR on any day before this one (inside the window or before it)?
        running.paid_before_window or coalesce(
            max(running.mrr > 0) over (
                partition by running.customer_id, running.product
                order by running.date_day
                rows between unbounded preceding and 1 preceding
            ),
            false
        ) as paid_before_day

    from running
    left join base_state
        on
            running.customer_id = base_state.customer_id
            and running.product = base_state.product

),

classified as (

    select
        *,
        {{ mrr_movement('previous_mrr', 'mrr', 'paid_before_day') }} as movement

    from with_previous
    -- Keep the days with MRR and the churn day itself; no rows while a pair is inactive.
    -- Negative MRR is kept (never filtered away) so the contract's check fails the build, and so
    -- is a pair whose plan is unknown (product null), which the contract's not-null refuses.
    where mrr <> 0 or previous_mrr <> 0 or product is null

),

final as (

    select
        {{ generate_surrogate_key(['customer_id', 'product', 'date_day']) }} as mrr_daily_id,
        date_day,
        customer_id,
        product,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(previous_mrr as decimal(18, 2)) as previous_mrr,
        cast(mrr - previous_mrr as decimal(18, 2)) as mrr_change,
        cast(12 * mrr as decimal(18, 2)) as arr,
        cast(seats as integer) as seats,
        movement

    from classified
    -- Stored in date order, so date filters on this table (the next build's previous day, the
    -- merge's date_day predicate, the pre-hook's delete) skip old row groups by their zonemaps.
    order by date_day

)

select * from final
