-- Recorded languages of service other than English per year, ranked (ties alphabetical), with
-- their share of the interactions with a recorded language (English included).
with

languages as (
    select * from {{ ref('int_interaction_languages') }}
),

recorded as (
    select
        *,
        interactions / sum(interactions) over (partition by activity_year) as share
    from languages
    where language is not null
),

final as (
    select
        activity_year,
        row_number() over (
            partition by activity_year order by interactions desc, language
        ) as language_rank,
        language,
        interactions,
        share
    from recorded
    where language != 'en'
)

select * from final
