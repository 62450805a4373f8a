-- One row per product usage event. Delivery is at-least-once, so a re-delivered event_id (even
-- in a later partition) collapses to the copy that landed first.
with

source as (

    select * from {{ source('app_db', 'usage_events') }}

),

numbered as (

    select
        *,
        row_number() over (partition by event_id order by _loaded_at, occurred_at) as copy_number

    from source

),

deduplicated as (

    select *
    from numbered
    where copy_number = 1

),

renamed as (

    select
        event_id,
        cast(user_id as bigint) as user_id,
        lower(trim(product)) as product,
        lower(trim(feature)) as feature,
        cast(occurred_at as timestamp) as occurred_at,
        cast(occurred_at as date) as event_date,
        cast(_loaded_at as timestamp) as loaded_at

    from deduplicated

)

select * from renamed
