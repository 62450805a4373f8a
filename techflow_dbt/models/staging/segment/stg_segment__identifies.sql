-- One row per Segment identify message (deduplicated on message_id like tracks), without test
-- accounts: QA signs up with @techflow.test addresses, which must not count as users anywhere.
with

source as (

    select * from {{ source('segment', 'identifies') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by message_id
            order by _loaded_at, timestamp
        ) as copy_number

    from source

),

deduplicated as (

    select *
    from numbered
    where copy_number = 1

),

renamed as (

    select
        message_id,
        anonymous_id,
        {{ cast_or_null("nullif(trim(user_id), '')", "bigint") }} as user_id,
        lower(trim(email)) as email,
        cast(timestamp as timestamp) as identified_at,
        cast(_loaded_at as timestamp) as loaded_at

    from deduplicated

),

final as (

    select
        message_id,
        anonymous_id,
        user_id,
        email,
        identified_at,
        loaded_at

    from renamed
    where not {{ is_test_email('email') }}

)

select * from final
