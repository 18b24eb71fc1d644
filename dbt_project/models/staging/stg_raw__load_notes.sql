with

source as (
    select * from {{ source('raw', 'load_notes') }}
),

final as (
    select
        source_file,
        note
    from source
)

select * from final
