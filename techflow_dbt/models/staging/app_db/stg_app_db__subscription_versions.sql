-- Every landed version of every subscription period, renamed and cast, with the hive partition
-- day it landed in. No dedup here on purpose: with no window function between this view and the
-- Parquet scan, a filter on landed_date prunes partitions, which is what lets fct_mrr_daily build
-- one day without reading the whole history.
with

source as (

    select * from {{ source('app_db', 'subscriptions') }}

),

renamed as (

    select
        cast(subscription_id as bigint) as subscription_id,
        cast(user_id as bigint) as customer_id,
        lower(trim(plan_id)) as plan_id,
        cast(quantity as integer) as quantity,
        lower(trim(status)) as status,
        cast(trial_ends_at as timestamp) as trial_ends_at,
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,
        lower(trim(ended_reason)) as ended_reason,
        cast(previous_subscription_id as bigint) as previous_subscription_id,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at,
        cast(date as date) as landed_date

    from source

)

select * from renamed
