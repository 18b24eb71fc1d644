-- The Business Improvement Areas the BIA reports cover, with the area each one spans.
with

bias as (
    select * from {{ ref('bias') }}
),

final as (
    select
        bia_name,
        extent
    from bias
)

select * from final
