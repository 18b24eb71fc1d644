-- Languages of service per year: interactions with and without a recorded language, the
-- number of distinct recorded languages and the share served in a language other than
-- English ('en').
with

languages as (
    select * from {{ ref('int_interaction_languages') }}
),

counted as (
    select
        activity_year,
        sum(interactions) as interactions,
        coalesce(sum(interactions) filter (where language is not null), 0) as recorded,
        coalesce(sum(interactions) filter (where language is null), 0) as not_recorded,
        count(language) as distinct_languages,
        coalesce(sum(interactions) filter (where language = 'en'), 0) as english
    from languages
    group by all
),

final as (
    select
        activity_year,
        cast(interactions as bigint) as interactions,
        cast(recorded as bigint) as recorded,
        cast(not_recorded as bigint) as not_recorded,
        distinct_languages,
        cast(english as bigint) as english,
        cast(recorded - english as bigint) as other_than_english,
        (recorded - english) / nullif(recorded, 0) as other_than_english_share
    from counted
)

select * from final
