-- Recorded languages of service other than English per year, ranked (ties alphabetical).
with

languages as (
    select * from {{ ref('int_interaction_languages') }}
),

final as (
    select
        activity_year,
        row_number() over (
            partition by activity_year order by interactions desc, language
        ) as language_rank,
        language,
        interactions
    from languages
    where language is not null and language != 'en'
)

select * from final
