-- Phone interactions offered to an agent, classified against the service-level thresholds.
with

interactions as (
    select * from {{ ref('int_interactions') }}
),

offered as (
    select *
    from interactions
    where channel = 'phone' and outcome in ('answered', 'abandoned')
),

final as (
    select
        interaction_id,
        activity_date,
        activity_month,
        activity_year,
        outcome,
        queue_seconds,
        handle_seconds,
        outcome = 'answered' as is_answered,
        outcome = 'abandoned' as is_abandoned,
        outcome = 'abandoned'
        and queue_seconds < {{ var('short_abandon_seconds') }} as is_short_abandon,
        outcome = 'answered'
        and queue_seconds <= {{ var('service_level_seconds') }} as is_answered_within_threshold
    from offered
)

select * from final
