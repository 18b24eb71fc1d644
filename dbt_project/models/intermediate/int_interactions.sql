-- One row per interaction (the latest delivery of a repeated id), with its local period.
-- It keeps the columns the marts read (every row is written once more here, so each column
-- costs load time at scale); the rest (responded_at, sr_id) stays in stg_raw__interactions.
-- transferred and language are kept as delivered (the loader trims text and reads every
-- accepted true/false spelling); the marts that read them decide what counts as recorded.
-- Incremental on DuckDB (macros/engine.sql): a build reads only the deliveries newer than
-- delivery_rank's highest value here, and their rows replace the rows of the same ids.
{{ config(
    materialized=cx311.row_materialization(),
    unique_key='interaction_id',
    incremental_strategy='delete+insert',
) }}

with

interactions as (
    select * from {{ ref('stg_raw__interactions') }}
    {{- cx311.new_deliveries_only() }}
),

repeated_ids as (
    select id as interaction_id
    from {{ ref('stg_raw__repeated_ids') }}
    where entity = 'interactions'
),

latest_delivery as (
    {{ latest_delivery('interactions', 'repeated_ids', 'interaction_id', 'interactions') }}
),

with_local_time as (
    select *, {{ cx311.local_time('started_at') }} as started_at_local
    from latest_delivery
),

final as (
    select
        interaction_id,
        started_at,
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
        language,
        -- real elapsed time between two instants (a DST change does not add or remove an hour)
        {{ cx311.seconds_between('started_at', 'responded_at') }} as seconds_to_response,
        delivery_rank
    from with_local_time
)

select * from final
