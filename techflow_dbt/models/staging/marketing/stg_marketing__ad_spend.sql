-- One row per spend day, channel and campaign, in dollars. Should a day be re-exported, the
-- latest landed copy wins, so spend is never double counted.
with

source as (

    select * from {{ source('marketing', 'ad_spend') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by spend_date, lower(trim(channel)), lower(trim(campaign))
            order by _loaded_at desc nulls last
        ) as export_number

    from source

),

latest_export as (

    select *
    from numbered
    where export_number = 1

),

renamed as (

    select
        {{ generate_surrogate_key(
            ['spend_date', 'lower(trim(channel))', 'lower(trim(campaign))']
        ) }} as ad_spend_id,
        cast(spend_date as date) as spend_date,
        lower(trim(channel)) as channel,
        lower(trim(campaign)) as campaign,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        {{ cents_to_dollars('spend_cents') }} as spend_usd,
        cast(_loaded_at as timestamp) as loaded_at

    from latest_export

)

select * from renamed
