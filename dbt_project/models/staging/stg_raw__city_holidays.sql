with

source as (
    select * from {{ source('raw', 'city_holidays') }}
),

final as (
    select
        cast(holiday_date as date) as holiday_date,
        holiday_name
    from source
)

select * from final
