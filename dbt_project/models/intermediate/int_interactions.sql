-- One row per interaction (the latest delivery of a repeated id), with its local period.
with

interactions as (
    select * from {{ ref('stg_raw__interactions') }}
),

repeated_ids as (
    select id as interaction_id
    from {{ ref('stg_raw__repeated_ids') }}
    where entity = 'interactions'
),

-- an id delivered once is its own latest delivery: only repeated ids are ranked
delivered_once as (
    select interactions.*
    from interactions
    anti join repeated_ids using (interaction_id)
),

latest_of_repeated as (
    select interactions.*
    from interactions
    semi join repeated_ids using (interaction_id)
    qualify row_number() over (
        partition by interaction_id order by delivery_rank desc, source_line desc
    ) = 1
),

latest_delivery as (
    select *, timezone('{{ var("timezone") }}', started_at) as started_at_local
    from (
        select * from delivered_once
        union all
        select * from latest_of_repeated
    )
),

final as (
    select
        interaction_id,
        started_at,
        started_at_local,
        cast(started_at_local as date) as activity_date,
        cast(date_trunc('month', started_at_local) as date) as activity_month,
        year(started_at_local) as activity_year,
        channel,
        interaction_type,
        topic,
        outcome,
        queue_seconds,
        handle_seconds,
        transferred,
        responded_at,
        -- real elapsed time between two instants (a DST change does not add or remove an hour)
        epoch(responded_at) - epoch(started_at) as seconds_to_response,
        sr_id,
        language
    from latest_delivery
)

select * from final
