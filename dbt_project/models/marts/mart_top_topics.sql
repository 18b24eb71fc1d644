-- General-inquiry topics per year, ranked (ties alphabetical).
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

counted as (
    select
        activity_year,
        topic,
        cast(sum(interactions) as bigint) as interactions
    from interaction_days
    where interaction_type = 'general_inquiry' and topic is not null
    group by all
),

final as (
    select
        activity_year,
        row_number() over (
            partition by activity_year order by interactions desc, topic
        ) as topic_rank,
        topic,
        interactions
    from counted
)

select * from final
