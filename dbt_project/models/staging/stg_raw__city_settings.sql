with

source as (
    select * from {{ source('raw', 'city_settings') }}
),

final as (
    select
        name,
        value
    from source
)

select * from final
