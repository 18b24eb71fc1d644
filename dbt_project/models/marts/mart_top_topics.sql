-- General-inquiry topics per year, ranked (ties alphabetical).
with

interactions as (
    select * from {{ ref('int_interactions') }}
),

counted as (
    select
        activity_year,
        topic,
        count(*) as interactions
    from interactions
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
