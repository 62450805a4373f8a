-- Feature adoption by month (METRICS.md, "Feature adoption"). Grain: one row per product and
-- feature of the product_features catalog and complete calendar month: the real users who used
-- the feature that month (adopters) among the product's active users that month (users with any
-- event of the product). Every catalog feature has a row in every month, so a feature nobody used
-- shows zero adopters in that month instead of vanishing from it, and the rate can never exceed
-- 1. Only complete months (ended by the as-of day): a partial month's rate is not a month's.
with

events as (

    select * from {{ ref('fct_events') }}

),

product_features as (

    select * from {{ ref('product_features') }}

),

calendar as (

    {{ calendar_months() }}

),

monthly_usage as (

    select
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as adoption_month,
        product,
        feature,
        user_id
    from events
    group by {{ dbt.date_trunc('month', 'event_date') }}, product, feature, user_id

),

product_users as (

    select
        adoption_month,
        product,
        count(distinct user_id) as product_active_users
    from monthly_usage
    group by adoption_month, product

),

feature_users as (

    select
        adoption_month,
        product,
        feature,
        count(*) as adopters
    from monthly_usage
    group by adoption_month, product, feature

),

feature_months as (

    select
        calendar.calendar_month as adoption_month,
        product_features.product,
        product_features.feature,
        product_features.feature_name,
        product_features.is_core as is_core_feature
    from product_features
    cross join calendar
    where calendar.is_complete_month

),

final as (

    select
        {{ generate_surrogate_key(
            ['feature_months.product', 'feature_months.feature', 'feature_months.adoption_month']
        ) }} as feature_month_key,
        feature_months.adoption_month,
        feature_months.product,
        feature_months.feature,
        feature_months.feature_name,
        feature_months.is_core_feature,
        coalesce(product_users.product_active_users, 0) as product_active_users,
        coalesce(feature_users.adopters, 0) as adopters,
        {{ ratio_or_null(
            'coalesce(feature_users.adopters, 0)', 'product_users.product_active_users'
        ) }} as adoption_rate

    from feature_months
    left join product_users
        on
            feature_months.adoption_month = product_users.adoption_month
            and feature_months.product = product_users.product
    left join feature_users
        on
            feature_months.adoption_month = feature_users.adoption_month
            and feature_months.product = feature_users.product
            and feature_months.feature = feature_users.feature

)

select * from final
