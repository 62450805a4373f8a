-- Grain: one row per paying customer and complete ISO week (Monday to Sunday) at whose end the
-- customer had MRR. The feature table of the churn model: engagement level and trend, seats, seat
-- utilisation (the account's distinct active people, owner and invited teammates, over its seats)
-- and MRR movement, payment failures, tenure, all as of the week's last day (so no feature peeks
-- into the future), and the label: did the customer lose all MRR within the 30 days after the week?
-- The label is null while those 30 days are not yet fully in the data.
with

mrr_daily as (

    select * from {{ ref('fct_mrr_daily') }}

),

engagement_daily as (

    select * from {{ ref('int_user_engagement_daily') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

stripe_customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

-- MRR summed over the customer's products per day. A day on which the customer's last paid
-- product ended carries that product's zero-MRR churn row, so the customer total reads 0 there.
customer_mrr_daily as (

    select
        customer_id,
        date_day,
        sum(mrr) as mrr,
        sum(seats) as seats,
        count(case when mrr > 0 then 1 end) as paid_products

    from mrr_daily
    group by customer_id, date_day

),

data_end as (

    select max(date_day) as last_day
    from customer_mrr_daily

),

-- The first paid day always lies on or before a paid week end, so taking it over all days
-- peeks into no future.
customer_first_paid as (

    select
        customer_id,
        min(date_day) as first_paid_date

    from customer_mrr_daily
    where mrr > 0
    group by customer_id

),

-- Sundays (ISO day 7) close a week; only weeks with MRR on their last day qualify.
paid_week_ends as (

    select
        customer_mrr_daily.customer_id,
        customer_mrr_daily.date_day as week_end,
        customer_mrr_daily.mrr,
        customer_mrr_daily.seats,
        customer_mrr_daily.paid_products,
        customer_first_paid.first_paid_date

    from customer_mrr_daily
    inner join customer_first_paid
        on customer_mrr_daily.customer_id = customer_first_paid.customer_id
    where {{ iso_day_of_week('customer_mrr_daily.date_day') }} = 7 and customer_mrr_daily.mrr > 0

),

customer_weeks as (

    select
        paid_week_ends.*,
        coalesce(four_weeks_earlier.mrr, 0) as mrr_28_days_earlier

    from paid_week_ends
    left join customer_mrr_daily as four_weeks_earlier
        on
            paid_week_ends.customer_id = four_weeks_earlier.customer_id
            and {{ add_days(-28, 'paid_week_ends.week_end') }} = four_weeks_earlier.date_day

),

-- Usage per customer account and ISO week (Monday to Sunday, named by its Sunday), summed over
-- the account's people. Because features are measured as of a Sunday, "the last 7 days" is
-- exactly one such week and "the last 28 days" four of them, so trailing windows become equality
-- joins and window functions over weeks instead of a range join of every customer-week with
-- every active day.
weekly_usage as (

    select
        customer_id,
        {{ iso_week_end('activity_date') }} as week_end,
        count(distinct activity_date) as active_days,
        sum(event_count) as event_count,
        max(features_used) as max_daily_features,
        max(activity_date) as last_active_date

    from engagement_daily
    where customer_id is not null
    group by customer_id, {{ iso_week_end('activity_date') }}

),

-- Who was active in which week: distinct people do not add up across weeks, so the 28-day count
-- joins the four weeks ending on the feature week.
weekly_active_people as (

    select distinct
        customer_id,
        user_id,
        {{ iso_week_end('activity_date') }} as week_end

    from engagement_daily
    where customer_id is not null

),

active_people as (

    select
        customer_weeks.customer_id,
        customer_weeks.week_end,
        count(distinct case
            when weekly_active_people.week_end = customer_weeks.week_end
                then weekly_active_people.user_id
        end) as active_users_last_7_days,
        count(distinct weekly_active_people.user_id) as active_users_last_28_days

    from customer_weeks
    left join weekly_active_people
        on
            customer_weeks.customer_id = weekly_active_people.customer_id
            and weekly_active_people.week_end in (
                customer_weeks.week_end,
                {{ add_days(-7, 'customer_weeks.week_end') }},
                {{ add_days(-14, 'customer_weeks.week_end') }},
                {{ add_days(-21, 'customer_weeks.week_end') }}
            )
    group by customer_weeks.customer_id, customer_weeks.week_end

),

-- Seat utilisation compares like with like: per paid product, the distinct people who used that
-- product in the four weeks over its seats, summed over the customer's paid products (a trial
-- of another product, or a product that just ended, uses no paid seat).
product_days as (

    select
        customer_id,
        user_id,
        activity_date,
        'cloudsync' as product
    from engagement_daily
    where customer_id is not null and cloudsync_event_count > 0

    union all

    select
        customer_id,
        user_id,
        activity_date,
        'teamchat' as product
    from engagement_daily
    where customer_id is not null and teamchat_event_count > 0

    union all

    select
        customer_id,
        user_id,
        activity_date,
        'datahub' as product
    from engagement_daily
    where customer_id is not null and datahub_event_count > 0

),

weekly_product_people as (

    select distinct
        customer_id,
        user_id,
        product,
        {{ iso_week_end('activity_date') }} as week_end

    from product_days

),

paid_product_seat_use as (

    select
        customer_weeks.customer_id,
        customer_weeks.week_end,
        mrr_daily.product,
        max(mrr_daily.seats) as seats,
        count(distinct weekly_product_people.user_id) as people

    from customer_weeks
    inner join mrr_daily
        on
            customer_weeks.customer_id = mrr_daily.customer_id
            and customer_weeks.week_end = mrr_daily.date_day
            and mrr_daily.mrr > 0
    left join weekly_product_people
        on
            mrr_daily.customer_id = weekly_product_people.customer_id
            and mrr_daily.product = weekly_product_people.product
            and weekly_product_people.week_end in (
                customer_weeks.week_end,
                {{ add_days(-7, 'customer_weeks.week_end') }},
                {{ add_days(-14, 'customer_weeks.week_end') }},
                {{ add_days(-21, 'customer_weeks.week_end') }}
            )
    group by customer_weeks.customer_id, customer_weeks.week_end, mrr_daily.product

),

seat_utilisation as (

    select
        customer_id,
        week_end,
        cast(sum(people) as double precision) / nullif(sum(seats), 0)
            as seat_utilisation_last_28_days

    from paid_product_seat_use
    group by customer_id, week_end

),

-- Every paid customer-week, active or not, next to the weeks with usage, so the windows below
-- see quiet weeks too.
week_grid as (

    select
        customer_id,
        week_end,
        active_days,
        event_count,
        max_daily_features,
        last_active_date

    from weekly_usage

    union all

    select
        customer_id,
        week_end,
        0 as active_days,
        0 as event_count,
        0 as max_daily_features,
        null as last_active_date

    from customer_weeks

),

grid_weeks as (

    select
        customer_id,
        week_end,
        sum(active_days) as active_days,
        sum(event_count) as event_count,
        max(max_daily_features) as max_daily_features,
        max(last_active_date) as last_active_date

    from week_grid
    group by customer_id, week_end

),

engagement_as_of_week_end as (

    select
        customer_id,
        week_end,
        active_days as active_days_last_7_days,
        sum(active_days) over (
            partition by customer_id
            order by week_end
            range between {{ days_offset(21) }} preceding and current row
        ) as active_days_last_28_days,
        event_count as events_last_7_days,
        -- An empty frame (no earlier week) sums to null: none of those weeks had events.
        coalesce(sum(event_count) over (
            partition by customer_id
            order by week_end
            range between {{ days_offset(21) }} preceding and {{ days_offset(7) }} preceding
        ), 0) as events_prior_21_days,
        max(max_daily_features) over (
            partition by customer_id
            order by week_end
            range between {{ days_offset(21) }} preceding and current row
        ) as max_daily_features_last_28_days,
        -- Latest active day up to this week, however long ago.
        max(last_active_date) over (
            partition by customer_id
            order by week_end
            rows between unbounded preceding and current row
        ) as last_active_date

    from grid_weeks

),

failed_charges as (

    select
        stripe_customers.customer_id,
        cast(charges.created_at as date) as failed_date

    from charges
    inner join stripe_customers
        on charges.stripe_customer_id = stripe_customers.stripe_customer_id
    where charges.charge_status = 'failed'

),

payment_failures_last_30_days as (

    select
        customer_weeks.customer_id,
        customer_weeks.week_end,
        count(failed_charges.failed_date) as failed_payments_last_30_days

    from customer_weeks
    left join failed_charges
        on
            customer_weeks.customer_id = failed_charges.customer_id
            and failed_charges.failed_date between
            {{ add_days(-29, 'customer_weeks.week_end') }} and customer_weeks.week_end
    group by customer_weeks.customer_id, customer_weeks.week_end

),

-- Full churn: a day in the 30 after the week on which the customer's total MRR is zero. Known
-- only once the data reaches 30 days past the week; until then the label is null.
churn_next_30_days as (

    select
        customer_weeks.customer_id,
        customer_weeks.week_end,
        data_end.last_day >= {{ add_days(30, 'customer_weeks.week_end') }} as is_label_observable,
        count(zero_mrr_days.date_day) > 0 as churned_within_data

    from customer_weeks
    cross join data_end
    left join customer_mrr_daily as zero_mrr_days
        on
            customer_weeks.customer_id = zero_mrr_days.customer_id
            and zero_mrr_days.date_day between
            {{ add_days(1, 'customer_weeks.week_end') }}
            and {{ add_days(30, 'customer_weeks.week_end') }}
            and zero_mrr_days.mrr = 0
    group by customer_weeks.customer_id, customer_weeks.week_end, data_end.last_day

),

final as (

    select
        {{ generate_surrogate_key(['customer_weeks.customer_id', 'customer_weeks.week_end']) }}
            as churn_signal_id,
        customer_weeks.customer_id,
        {{ add_days(-6, 'customer_weeks.week_end') }} as week_start,
        customer_weeks.week_end,
        cast(customer_weeks.mrr as decimal(18, 2)) as mrr,
        cast(customer_weeks.seats as integer) as seats,
        cast(active_people.active_users_last_7_days as integer) as active_users_last_7_days,
        cast(active_people.active_users_last_28_days as integer) as active_users_last_28_days,
        seat_utilisation.seat_utilisation_last_28_days,
        -- Engagement intensity, independent of team size: the 28 days' events per seat and per
        -- active person (null without an active person).
        cast(
            engagement_as_of_week_end.events_last_7_days
            + engagement_as_of_week_end.events_prior_21_days as double precision
        ) / nullif(customer_weeks.seats, 0) as events_per_seat_last_28_days,
        cast(
            engagement_as_of_week_end.events_last_7_days
            + engagement_as_of_week_end.events_prior_21_days as double precision
        ) / nullif(active_people.active_users_last_28_days, 0)
            as events_per_active_user_last_28_days,
        customer_weeks.paid_products,
        cast(customer_weeks.mrr - customer_weeks.mrr_28_days_earlier as decimal(18, 2))
            as mrr_change_28_days,
        {{ dbt.datediff('customer_weeks.first_paid_date', 'customer_weeks.week_end', 'day') }}
            as tenure_days,
        cast(engagement_as_of_week_end.active_days_last_7_days as integer)
            as active_days_last_7_days,
        cast(engagement_as_of_week_end.active_days_last_28_days as integer)
            as active_days_last_28_days,
        cast(engagement_as_of_week_end.events_last_7_days as bigint) as events_last_7_days,
        cast(engagement_as_of_week_end.events_prior_21_days as bigint) as events_prior_21_days,
        -- This week's events over the weekly average of the three weeks before: below 1 means
        -- usage is falling, the strongest churn signal. Null when there was no earlier usage.
        case
            when engagement_as_of_week_end.events_prior_21_days > 0
                then
                    cast(engagement_as_of_week_end.events_last_7_days as double precision)
                    / (engagement_as_of_week_end.events_prior_21_days / 3.0)
        end as engagement_trend,
        cast(engagement_as_of_week_end.max_daily_features_last_28_days as integer)
            as max_daily_features_last_28_days,
        {{ dbt.datediff(
            'engagement_as_of_week_end.last_active_date', 'customer_weeks.week_end', 'day'
        ) }} as days_since_last_activity,
        payment_failures_last_30_days.failed_payments_last_30_days,
        churn_next_30_days.is_label_observable,
        case
            when churn_next_30_days.is_label_observable
                then churn_next_30_days.churned_within_data
        end as churned_next_30_days

    from customer_weeks
    inner join engagement_as_of_week_end
        on
            customer_weeks.customer_id = engagement_as_of_week_end.customer_id
            and customer_weeks.week_end = engagement_as_of_week_end.week_end
    inner join payment_failures_last_30_days
        on
            customer_weeks.customer_id = payment_failures_last_30_days.customer_id
            and customer_weeks.week_end = payment_failures_last_30_days.week_end
    inner join churn_next_30_days
        on
            customer_weeks.customer_id = churn_next_30_days.customer_id
            and customer_weeks.week_end = churn_next_30_days.week_end
    inner join active_people
        on
            customer_weeks.customer_id = active_people.customer_id
            and customer_weeks.week_end = active_people.week_end
    inner join seat_utilisation
        on
            customer_weeks.customer_id = seat_utilisation.customer_id
            and customer_weeks.week_end = seat_utilisation.week_end

)

select * from final
