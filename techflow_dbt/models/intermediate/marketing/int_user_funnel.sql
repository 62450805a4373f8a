-- One row per user who went past signup: when they activated a workspace (the Segment
-- "Workspace Activated" track; the product opens the first subscription, usually a trial, at that
-- moment) and when their first trial started. Users who never activated have no row; paying is
-- read from MRR by fct_customer_acquisition, so the steps come from three independent sources.
-- Segment delivers some batches in the next day's partition, so an activation on the as-of day
-- may not have landed while the subscription it opened has: for those users alone the first
-- subscription's start stands in (the same instant) until the track lands. An activation missing
-- from an earlier day is a lost event, not a late one, and stays missing for the funnel's tests
-- on fct_customer_acquisition to report.
with

tracks as (

    select * from {{ ref('stg_segment__tracks') }}

),

subscription_periods as (

    select * from {{ ref('int_subscription_periods') }}

),

tracked_activations as (

    select
        user_id,
        min(event_at) as activated_at

    from tracks
    where event_name = 'workspace activated' and user_id is not null
    group by user_id

),

first_subscriptions as (

    select
        customer_id as user_id,
        min(started_at) as first_subscription_at,
        min(case when had_trial then started_at end) as trial_started_at

    from subscription_periods
    group by customer_id

),

final as (

    select
        coalesce(tracked_activations.user_id, first_subscriptions.user_id) as user_id,
        coalesce(
            tracked_activations.activated_at,
            case
                when first_subscriptions.first_subscription_at >= {{ as_of_day() }}
                    then first_subscriptions.first_subscription_at
            end
        ) as activated_at,
        first_subscriptions.trial_started_at

    from tracked_activations
    full outer join first_subscriptions
        on tracked_activations.user_id = first_subscriptions.user_id

)

select * from final
