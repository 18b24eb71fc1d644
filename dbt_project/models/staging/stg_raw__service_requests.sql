with

source as (
    select * from {{ source('raw', 'service_requests') }}
),

final as (
    select
        sr_id,
        created_at,
        closed_at,
        status,
        sr_type,
        division,
        section,
        trim(ward) as ward_raw,
        fsa,
        latitude,
        longitude,
        nullif(trim(bia), '') as bia,
        channel,
        due_at,
        updated_at,
        closed_at_available,
        _source_file as source_file,
        _source_line as source_line,
        _delivery_rank as delivery_rank
    from source
)

select * from final
