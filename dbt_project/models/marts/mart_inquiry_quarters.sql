-- General inquiries per topic and calendar quarter (local started_at), with the phone count,
-- the median of the topic's 4 quarters before (a quarter without inquiries counts 0) and
-- whether the quarter is a surge: at least surge_factor x that median and at least
-- inquiry_surge_floor. Every topic has a row for every quarter from the first to the last
-- quarter of the interaction data; a quarter is evaluated only when the data (any type, any
-- topic) start at least 4 quarters before it.
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

data_span as (
    select
        cast(date_trunc('quarter', min(activity_date)) as date) as first_quarter,
        cast(date_trunc('quarter', max(activity_date)) as date) as last_quarter
    from interaction_days
),

quarters as (
    select cast(quarter_start as date) as quarter_start
    from {{ cx311.date_series(
        '(select first_quarter from data_span)',
        '(select last_quarter from data_span) + interval 1 day',
        'interval 3 month', 'quarter_start'
    ) }}  -- noqa: AL05, LT01
),

counted as (
    select
        topic,
        cast(date_trunc('quarter', activity_date) as date) as quarter_start,
        cast(sum(interactions) as bigint) as interactions,
        cast(coalesce(sum(interactions) filter (where channel = 'phone'), 0) as bigint) as phone_interactions
    from interaction_days
    where interaction_type = 'general_inquiry' and topic is not null
    group by all
),

topics as (
    select distinct topic from counted
),

filled as (
    select
        topics.topic,
        quarters.quarter_start,
        coalesce(counted.interactions, 0) as interactions,
        coalesce(counted.phone_interactions, 0) as phone_interactions
    from topics
    cross join quarters
    left join counted
        on
            counted.topic = topics.topic
            and counted.quarter_start = quarters.quarter_start
),

with_baseline as (
    select
        *,
        {{ cx311.median('interactions', over='previous_quarters') }} as baseline_median,
        count(*) over previous_quarters as baseline_quarters
    from filled
    window previous_quarters as (
        partition by topic
        order by quarter_start
        rows between 4 preceding and 1 preceding
    )
),

final as (
    select
        topic,
        quarter_start,
        year(quarter_start) as quarter_year,
        year(quarter_start) || '-Q' || quarter(quarter_start) as quarter_label,
        interactions,
        phone_interactions,
        baseline_quarters = 4 as is_evaluated,
        case when baseline_quarters = 4 then baseline_median end as baseline_median,
        case when baseline_quarters = 4 then interactions / nullif(baseline_median, 0) end as baseline_multiple,
        coalesce(
            baseline_quarters = 4
            and interactions >= {{ var('surge_factor') }} * baseline_median
            and interactions >= {{ var('inquiry_surge_floor') }},
            false
        ) as is_surge
    from with_baseline
)

select * from final
