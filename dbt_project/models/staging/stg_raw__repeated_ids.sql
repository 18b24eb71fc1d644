with

source as (
    select * from {{ source('raw', 'repeated_ids') }}
),

final as (
    select
        entity,
        id
    from source
)

select * from final
