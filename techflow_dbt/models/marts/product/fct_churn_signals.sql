-- Grain: one row per paying customer and complete ISO week (Monday to Sunday) at whose end the
-- customer had MRR. The feature table of the churn model: engagement level and trend, seats and
-- MRR movement, payment failures, tenure, all as of the week's last day (so no feature peeks into
-- the future), and the label: did the customer lose all MRR within the 30 days after the week?
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
    where isodow(customer_mrr_daily.date_day) = 7 and customer_mrr_daily.mrr > 0

),

customer_weeks as (

    select
        paid_week_ends.*,
        coalesce(four_weeks_earlier.mrr, 0) as mrr_28_days_earlier

    from paid_week_ends
    left join customer_mrr_daily as four_weeks_earlier
        on
            paid_week_ends.customer_id = four_weeks_earlier.customer_id
            and paid_week_ends.week_end - interval 28 days = four_weeks_earlier.date_day

),

engagement_last_28_days as (

    select
        customer_weeks.customer_id,
        customer_weeks.week_end,
        count(
            case
                when engagement_daily.activity_date > customer_weeks.week_end - interval 7 days
                    then 1
            end
        ) as active_days_last_7_days,
        count(engagement_daily.activity_date) as active_days_last_28_days,
        coalesce(sum(
            case
                when engagement_daily.activity_date > customer_weeks.week_end - interval 7 days
                    then engagement_daily.event_count
                else 0
            end
        ), 0) as events_last_7_days,
        coalesce(sum(
            case
                when engagement_daily.activity_date <= customer_weeks.week_end - interval 7 days
                    then engagement_daily.event_count
                else 0
            end
        ), 0) as events_prior_21_days,
        coalesce(max(engagement_daily.features_used), 0) as max_daily_features_last_28_days

    from customer_weeks
    left join engagement_daily
        on
            customer_weeks.customer_id = engagement_daily.user_id
            and engagement_daily.activity_date between
            customer_weeks.week_end - interval 27 days and customer_weeks.week_end
    group by customer_weeks.customer_id, customer_weeks.week_end

),

-- Latest activity on or before each week end, over all history: week ends and active days on one
-- timeline per user, carrying the newest active day forward.
activity_timeline as (

    select
        user_id as customer_id,
        activity_date as timeline_date,
        activity_date,
        0 as is_week_end

    from engagement_daily

    union all

    select
        customer_id,
        week_end as timeline_date,
        null as activity_date,
        1 as is_week_end

    from customer_weeks

),

last_activity as (

    select
        customer_id,
        timeline_date as week_end,
        max(activity_date) over (
            partition by customer_id
            order by timeline_date asc, is_week_end asc
            rows between unbounded preceding and current row
        ) as last_active_date,
        is_week_end

    from activity_timeline

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
            customer_weeks.week_end - interval 29 days and customer_weeks.week_end
    group by customer_weeks.customer_id, customer_weeks.week_end

),

-- Full churn: a day in the 30 after the week on which the customer's total MRR is zero. Known
-- only once the data reaches 30 days past the week; until then the label is null.
churn_next_30_days as (

    select
        customer_weeks.customer_id,
        customer_weeks.week_end,
        data_end.last_day >= customer_weeks.week_end + interval 30 days as is_label_observable,
        count(zero_mrr_days.date_day) > 0 as churned_within_data

    from customer_weeks
    cross join data_end
    left join customer_mrr_daily as zero_mrr_days
        on
            customer_weeks.customer_id = zero_mrr_days.customer_id
            and zero_mrr_days.date_day between
            customer_weeks.week_end + interval 1 day and customer_weeks.week_end + interval 30 days
            and zero_mrr_days.mrr = 0
    group by customer_weeks.customer_id, customer_weeks.week_end, data_end.last_day

),

final as (

    select
        {{ generate_surrogate_key(['customer_weeks.customer_id', 'customer_weeks.week_end']) }}
            as churn_signal_id,
        customer_weeks.customer_id,
        cast(customer_weeks.week_end - interval 6 days as date) as week_start,
        customer_weeks.week_end,
        cast(customer_weeks.mrr as decimal(18, 2)) as mrr,
        cast(customer_weeks.seats as integer) as seats,
        customer_weeks.paid_products,
        cast(customer_weeks.mrr - customer_weeks.mrr_28_days_earlier as decimal(18, 2))
            as mrr_change_28_days,
        {{ dbt.datediff('customer_weeks.first_paid_date', 'customer_weeks.week_end', 'day') }}
            as tenure_days,
        engagement_last_28_days.active_days_last_7_days,
        engagement_last_28_days.active_days_last_28_days,
        cast(engagement_last_28_days.events_last_7_days as bigint) as events_last_7_days,
        cast(engagement_last_28_days.events_prior_21_days as bigint) as events_prior_21_days,
        -- This week's events over the weekly average of the three weeks before: below 1 means
        -- usage is falling, the strongest churn signal. Null when there was no earlier usage.
        case
            when engagement_last_28_days.events_prior_21_days > 0
                then
                    cast(engagement_last_28_days.events_last_7_days as double)
                    / (engagement_last_28_days.events_prior_21_days / 3.0)
        end as engagement_trend,
        engagement_last_28_days.max_daily_features_last_28_days,
        {{ dbt.datediff('last_activity.last_active_date', 'customer_weeks.week_end', 'day') }}
            as days_since_last_activity,
        payment_failures_last_30_days.failed_payments_last_30_days,
        churn_next_30_days.is_label_observable,
        case
            when churn_next_30_days.is_label_observable
                then churn_next_30_days.churned_within_data
        end as churned_next_30_days

    from customer_weeks
    inner join engagement_last_28_days
        on
            customer_weeks.customer_id = engagement_last_28_days.customer_id
            and customer_weeks.week_end = engagement_last_28_days.week_end
    inner join last_activity
        on
            customer_weeks.customer_id = last_activity.customer_id
            and customer_weeks.week_end = last_activity.week_end
            and last_activity.is_week_end = 1
    inner join payment_failures_last_30_days
        on
            customer_weeks.customer_id = payment_failures_last_30_days.customer_id
            and customer_weeks.week_end = payment_failures_last_30_days.week_end
    inner join churn_next_30_days
        on
            customer_weeks.customer_id = churn_next_30_days.customer_id
            and customer_weeks.week_end = churn_next_30_days.week_end

)

select * from final
