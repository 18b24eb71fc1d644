-- Interactions per year by type and by channel: count, share of the year's total, and
-- change vs the prior year (null when the prior year has none of that category).
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

counted as (
    select
        activity_year,
        'type' as dimension,
        interaction_type as category,
        cast(sum(interactions) as bigint) as interactions
    from interaction_days
    group by all
    union all
    select
        activity_year,
        'channel' as dimension,
        channel as category,
        cast(sum(interactions) as bigint) as interactions
    from interaction_days
    group by all
),

with_totals as (
    select
        *,
        sum(interactions) over (partition by activity_year, dimension) as year_total
    from counted
),

final as (
    select
        this_year.activity_year,
        this_year.dimension,
        this_year.category,
        this_year.interactions,
        this_year.year_total,
        this_year.interactions / this_year.year_total as share,
        prior_year.interactions as prior_year_interactions,
        (this_year.interactions - prior_year.interactions) / prior_year.interactions
            as change_vs_prior_year
    from with_totals as this_year
    left join counted as prior_year
        on
            prior_year.activity_year = this_year.activity_year - 1
            and prior_year.dimension = this_year.dimension
            and prior_year.category = this_year.category
)

select * from final
