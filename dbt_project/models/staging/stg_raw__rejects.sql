with

source as (
    select * from {{ source('raw', 'rejects') }}
),

final as (
    select
        source_file,
        entity,
        line,
        {{ adapter.quote('column') }} as column_name,
        reason
    from source
)

select * from final
