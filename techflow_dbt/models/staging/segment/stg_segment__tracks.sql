-- One row per Segment track message. Segment delivers at least once, so a message_id can land
-- twice (even in two daily partitions); we keep the copy that landed first. Raw UTM values vary in
-- case and whitespace, so they are normalised before the utm_channel_mapping seed turns them into
-- a marketing channel.
-- Documented exception (dbt-project-evaluator: staging depends on a seed): the channel mapping is
-- a lookup the rename step needs, and its unit tests pin it here; unmapped UTMs become 'other',
-- whose share is watched by a warn-severity test on this model.
with

source as (

    select * from {{ source('segment', 'tracks') }}

),

utm_channel_mapping as (

    select * from {{ ref('utm_channel_mapping') }}

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
        lower(trim(event)) as event_name,
        cast(timestamp as timestamp) as event_at,
        cast(timestamp as date) as event_date,
        context_page_path as page_path,
        nullif(lower(trim(context_campaign_source)), '') as utm_source,
        nullif(lower(trim(context_campaign_medium)), '') as utm_medium,
        nullif(lower(trim(context_campaign_name)), '') as utm_campaign,
        cast(_loaded_at as timestamp) as loaded_at

    from deduplicated

),

-- A visit without UTM parameters is direct traffic: Google Analytics' (direct)/(none) convention,
-- which is how the seed spells it.
channel_keys as (

    select
        *,
        coalesce(utm_source, '(direct)') as mapping_source,
        coalesce(utm_medium, '(none)') as mapping_medium

    from renamed

),

final as (

    select
        channel_keys.message_id,
        channel_keys.anonymous_id,
        channel_keys.user_id,
        channel_keys.event_name,
        channel_keys.event_at,
        channel_keys.event_date,
        channel_keys.page_path,
        channel_keys.utm_source,
        channel_keys.utm_medium,
        channel_keys.utm_campaign,
        -- Tagged traffic the seed does not know yet is 'other', never silently 'direct'.
        coalesce(utm_channel_mapping.channel, 'other') as channel,
        channel_keys.loaded_at

    from channel_keys
    left join utm_channel_mapping
        on
            channel_keys.mapping_source = utm_channel_mapping.utm_source
            and channel_keys.mapping_medium = utm_channel_mapping.utm_medium

)

select * from final
