with

source as (
    select * from {{ source('raw', 'service_standards') }}
),

final as (
    select
        {{ clean_type_name('sr_type') }} as sr_type,
        cast(target_days as integer) as target_days,
        lower(trim(day_basis)) as day_basis
    from source
)

select * from final
