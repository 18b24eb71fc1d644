-- E-mails received per year and the share acknowledged within the standard.
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

counted as (
    select
        activity_year,
        cast(sum(interactions) as bigint) as received,
        cast(coalesce(sum(interactions) filter (where is_acknowledged_within_standard), 0) as bigint)
            as acknowledged_within_standard_count
    from interaction_days
    where channel = 'email'
    group by all
),

final as (
    select
        activity_year,
        received,
        acknowledged_within_standard_count,
        acknowledged_within_standard_count / received as acknowledged_within_standard
    from counted
)

select * from final
