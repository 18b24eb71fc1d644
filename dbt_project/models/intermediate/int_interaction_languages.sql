-- Interactions per year by language of service: the delivered value trimmed (any white
-- space) and lower-cased, so 'EN' and ' en ' are one language; empty or white space only is
-- null (not recorded).
with

interaction_days as (
    select * from {{ ref('int_interaction_days') }}
),

normalised as (
    select
        activity_year,
        nullif(lower({{ cx311.regexp_replace('language', '^\s+|\s+$', '', all=true) }}), '') as language,
        interactions
    from interaction_days
),

final as (
    select
        activity_year,
        language,
        cast(sum(interactions) as bigint) as interactions
    from normalised
    group by all
)

select * from final
