-- One row per interaction (the latest delivery of a repeated id), with its local period.
-- A view: int_interaction_days, the one model that reads it, counts its rows per day as they
-- are read (incrementally on DuckDB: the days of the new deliveries), so no build writes
-- every interaction a second time after the load (that copy took 30-50 s of a cold build at
-- 10x Toronto's volume, about 2 s of one of dbt's two threads at 1x).
-- transferred and language are kept as delivered (the loader trims text and reads every
-- accepted true/false spelling); the marts that read them decide what counts as recorded.
{{ config(materialized='view') }}

with

interactions as (
    select * from {{ ref('stg_raw__interactions') }}
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
