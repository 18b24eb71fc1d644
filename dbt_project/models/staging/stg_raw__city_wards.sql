with

source as (
    select * from {{ source('raw', 'city_wards') }}
),

final as (
    select
        cast(ward_number as integer) as ward_number,
        ward_name,
        cast(population as bigint) as population
    from source
)

select * from final
