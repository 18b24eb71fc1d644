-- The service standards the on-time figures use, and whether they are the shipped
-- illustrative values (the report then says so).
with

standards as (
    select * from {{ ref('int_service_standards') }}
),

final as (
    select
        sr_type,
        target_days,
        day_basis,
        illustrative
    from standards
)

select * from final
