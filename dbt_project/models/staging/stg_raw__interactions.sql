with

source as (
    select * from {{ source('raw', 'interactions') }}
),

final as (
    select
        interaction_id,
        started_at,
        channel,
        interaction_type,
        topic,
        outcome,
        queue_seconds,
        handle_seconds,
        transferred,
        responded_at,
        sr_id,
        language,
        _source_file as source_file,
        _source_line as source_line,
        _delivery_rank as delivery_rank
    from source
)

select * from final
