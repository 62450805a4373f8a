-- One row per user who went past signup: when they activated a workspace (the Segment
-- "Workspace Activated" track; the product opens the first subscription, usually a trial, at that
-- moment) and when their first trial started. Users who never activated have no row; paying is
-- read from MRR by fct_customer_acquisition, so the steps come from three independent sources.
with

tracks as (

    select * from {{ ref('stg_segment__tracks') }}

),

subscription_periods as (

    select * from {{ ref('int_subscription_periods') }}

),

activations as (

    select
        user_id,
        min(event_at) as activated_at

    from tracks
    where event_name = 'workspace activated' and user_id is not null
    group by user_id

),

trials as (

    select
        customer_id as user_id,
        min(started_at) as trial_started_at

    from subscription_periods
    where had_trial
    group by customer_id

),

final as (

    select
        coalesce(activations.user_id, trials.user_id) as user_id,
        activations.activated_at,
        trials.trial_started_at

    from activations
    full outer join trials
        on activations.user_id = trials.user_id

)

select * from final
