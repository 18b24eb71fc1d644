-- Phone service level, ASA, AHT and abandon rate per year, month and day.
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

-- phone calls offered to an agent: answered or abandoned
calls as (
    select
        *,
        outcome = 'answered' as is_answered,
        outcome = 'abandoned' as is_abandoned
    from interaction_days
    where channel = 'phone' and outcome in ('answered', 'abandoned')
),

{% set grains = {'year': 'make_date(activity_year, 1, 1)', 'month': 'activity_month', 'day': 'activity_date'} %}
counted as (
    {% for grain, period_start in grains.items() %}
    select
        '{{ grain }}' as grain,
        {{ period_start }} as period_start,
        cast(sum(interactions) as bigint) as offered,
        cast(coalesce(sum(interactions) filter (where is_answered), 0) as bigint) as answered,
        cast(coalesce(sum(interactions) filter (where is_abandoned), 0) as bigint) as abandoned,
        cast(coalesce(sum(interactions) filter (where is_short_abandon), 0) as bigint) as short_abandoned,
        cast(coalesce(sum(interactions) filter (where is_answered_within_threshold), 0) as bigint)
            as answered_within_threshold,
        sum(queue_seconds) filter (where is_answered) as answered_queue_seconds,
        sum(handle_seconds) filter (where is_answered) as answered_handle_seconds
    from calls
    group by all
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

rates as (
    select
        *,
        answered_within_threshold / nullif(offered - short_abandoned, 0) as service_level,
        cast({{ var('service_level_target') }} as double) as target
    from counted
),

final as (
    select
        grain,
        period_start,
        year(period_start) as period_year,
        offered,
        answered,
        abandoned,
        short_abandoned,
        answered_within_threshold,
        service_level,
        target,
        service_level >= target as target_met,
        answered_queue_seconds / nullif(answered, 0) as asa_seconds,
        answered_handle_seconds / nullif(answered, 0) as aht_seconds,
        (abandoned - short_abandoned) / nullif(offered - short_abandoned, 0) as abandon_rate
    from rates
)

select * from final
