-- Interactions per year by language of service: the delivered value trimmed (any white
-- space) and lower-cased, so 'EN' and ' en ' are one language; empty or white space only is
-- null (not recorded).
with

interactions as (
    select * from {{ ref('int_interactions') }}
),

normalised as (
    select
        activity_year,
        nullif(lower({{ cx311.regexp_replace('language', '^\s+|\s+$', '', all=true) }}), '') as language
    from interactions
),

final as (
    select
        activity_year,
        language,
        count(*) as interactions
    from normalised
    group by all
)

select * from final
