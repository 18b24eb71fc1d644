-- The service standards in force: an analyst's raw/reference/service_standards.csv when
-- present, otherwise the (illustrative) shipped seed.
with

shipped as (
    select
        sr_type,
        target_days,
        day_basis,
        illustrative
    from {{ ref('service_standards') }}
),

override as (
    select
        sr_type,
        target_days,
        day_basis,
        false as illustrative
    from {{ ref('stg_raw__service_standards') }}
),

final as (
    select * from override
    union all
    select * from shipped
    where not exists (select 1 from override)
)

select * from final
