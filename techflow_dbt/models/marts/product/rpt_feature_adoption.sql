-- Grain: one row per product and feature of the product_features catalog.
-- How widely each feature is adopted: adopters among the product's active users, how fast users
-- adopt it after signup, and how many still use it in the last 28 days of data. Features nobody
-- used appear with zero adopters, which is itself a finding.
with

product_features as (

    select * from {{ ref('product_features') }}

),

feature_adoption as (

    select * from {{ ref('int_feature_adoption') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

-- "Recent" is relative to the newest data, not to today, so a rebuild of old data reads the same.
data_end as (

    select max(last_used_at) as last_event_at
    from feature_adoption

),

real_user_adoption as (

    select
        feature_adoption.*,
        {{ dbt.datediff('users.signup_at', 'feature_adoption.first_used_at', 'day') }}
            as days_to_adopt

    from feature_adoption
    inner join users
        on feature_adoption.user_id = users.user_id

),

product_users as (

    select
        product,
        count(distinct user_id) as product_active_users

    from real_user_adoption
    group by product

),

feature_usage as (

    select
        real_user_adoption.product,
        real_user_adoption.feature,
        count(*) as adopters,
        cast(sum(real_user_adoption.event_count) as bigint) as event_count,
        count(
            case
                when
                    real_user_adoption.last_used_at
                    > {{ dbt.dateadd('day', -28, 'data_end.last_event_at') }}
                    then 1
            end
        ) as adopters_active_last_28_days,
        {{ median_of('real_user_adoption.days_to_adopt') }} as median_days_to_adopt,
        min(real_user_adoption.first_used_at) as first_used_at

    from real_user_adoption
    cross join data_end
    group by real_user_adoption.product, real_user_adoption.feature

),

final as (

    select
        {{ generate_surrogate_key(['product_features.product', 'product_features.feature']) }}
            as feature_key,
        product_features.product,
        product_features.feature,
        product_features.feature_name,
        product_features.min_tier,
        product_features.is_core as is_core_feature,
        coalesce(product_users.product_active_users, 0) as product_active_users,
        coalesce(feature_usage.adopters, 0) as adopters,
        case
            when coalesce(product_users.product_active_users, 0) > 0
                then
                    cast(coalesce(feature_usage.adopters, 0) as double precision)
                    / product_users.product_active_users
        end as adoption_rate,
        coalesce(feature_usage.adopters_active_last_28_days, 0) as adopters_active_last_28_days,
        coalesce(feature_usage.event_count, 0) as event_count,
        feature_usage.median_days_to_adopt,
        feature_usage.first_used_at

    from product_features
    left join feature_usage
        on
            product_features.product = feature_usage.product
            and product_features.feature = feature_usage.feature
    left join product_users
        on product_features.product = product_users.product

)

select * from final
