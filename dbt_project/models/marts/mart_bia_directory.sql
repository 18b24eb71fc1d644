-- The Business Improvement Areas the BIA reports cover: the area each one spans, and the key
-- its name is matched on.
with

bias as (
    select * from {{ ref('bias') }}
),

final as (
    select
        bia_name,
        {{ bia_key('bia_name') }} as bia_key,
        extent,
        -- 'Chinatown' for Chinatown BIA says nothing the name does not: the reports leave it out
        coalesce({{ bia_key('extent') }} = {{ bia_key('bia_name') }}, false) as extent_repeats_name
    from bias
)

select * from final
