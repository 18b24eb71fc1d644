-- Answered phone calls and live chats handled without transfer, per year and per month, for
-- both channels together ('all') and for each: answered, recorded (transferred true or
-- false; blank is not recorded and left out of the share), transferred, and the share
-- handled without transfer.
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

answered as (
    select
        activity_year,
        activity_month,
        channel,
        transferred,
        interactions
    from interaction_days
    where outcome = 'answered' and channel in ('phone', 'live_chat')
),

-- every answered interaction counts once for its channel and once for 'all'
by_channel as (
    select
        *,
        channel as channel_group
    from answered
    union all
    select
        *,
        'all' as channel_group
    from answered
),

{% set grains = {'year': 'make_date(activity_year, 1, 1)', 'month': 'activity_month'} %}
counted as (
    {% for grain, period_start in grains.items() %}
    select
        '{{ grain }}' as grain,
        {{ period_start }} as period_start,
        channel_group as channel,
        cast(sum(interactions) as bigint) as answered,
        cast(coalesce(sum(interactions) filter (where transferred is not null), 0) as bigint) as recorded,
        cast(coalesce(sum(interactions) filter (where transferred), 0) as bigint) as transferred
    from by_channel
    group by all
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        grain,
        period_start,
        year(period_start) as period_year,
        channel,
        answered,
        recorded,
        transferred,
        (recorded - transferred) / nullif(recorded, 0) as handled_without_transfer
    from counted
)

select * from final
