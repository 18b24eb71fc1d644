-- Interactions counted per local day and per every value the interaction marts group or filter
-- by, with the phone calls classified against the service-level thresholds and the e-mails
-- against the acknowledgement standard, and the seconds the phone figures average. The
-- interaction marts read these counts (about 1.5 M rows at 10x Toronto's volume) instead of
-- every interaction (26 M); counts and integer sums add up exactly, so every figure is the
-- one the rows give.
-- Incremental on DuckDB (macros/engine.sql): a build counts again only the days on which the
-- rows it added to int_interactions fall, and those days' counts replace the ones held. When
-- a new row may have replaced an earlier version of its id (an id the loader listed as
-- repeated), that version's day is not known here, so every day is counted again.
-- depends_on: {{ ref('stg_raw__repeated_ids') }} (read only by an incremental build, below)
{{ config(
    materialized=cx311.row_materialization(),
    unique_key='activity_date',
    incremental_strategy='delete+insert',
) }}

with

interactions as (
    select * from {{ ref('int_interactions') }}
),

{% if is_incremental() -%}
-- int_interactions is read again here, not through the CTE above: DuckDB would keep every
-- row of a CTE read twice, where this reads only the new rows
new_rows as (
    select
        interaction_id,
        activity_date
    from {{ ref('int_interactions') }}
    {{- cx311.new_deliveries_only() }}
),

{% set may_replace = any_repeated_id('interactions') -%}
{% if may_replace -%}
repeated_ids as (
    select id as interaction_id
    from {{ ref('stg_raw__repeated_ids') }}
    where entity = 'interactions'
),

{% endif -%}
days_to_count as (
    select distinct activity_date from new_rows
    {%- if may_replace %}
    union
    select every_row.activity_date from {{ ref('int_interactions') }} as every_row
    where exists (select 1 from new_rows semi join repeated_ids using (interaction_id))
    {%- endif %}
),

-- the instants the days to count can hold, and more (a local day is less than a day from UTC
-- either way): DuckDB then reads only the row groups around them, where taking every
-- interaction's local date to compare it cost 1.7 s of a new month at 10x Toronto's volume
instants as (
    select
        cast(min(activity_date) as timestamp) - interval 2 day as earliest,
        cast(max(activity_date) as timestamp) + interval 3 day as latest
    from days_to_count
),

{% endif -%}
classified as (
    select
        activity_date,
        activity_month,
        activity_year,
        channel,
        interaction_type,
        topic,
        outcome,
        transferred,
        language,
        channel = 'phone' and outcome = 'abandoned'
        and queue_seconds < {{ var('short_abandon_seconds') }} as is_short_abandon,
        channel = 'phone' and outcome = 'answered'
        and queue_seconds <= {{ var('service_level_seconds') }} as is_answered_within_threshold,
        -- real elapsed time (int_interactions); an unanswered e-mail has none and is not counted
        seconds_to_response <= {{ var('email_ack_hours') }} * 3600 as is_acknowledged_within_standard,
        queue_seconds,
        handle_seconds,
        delivery_rank
    from interactions
    {%- if is_incremental() %}
    where
        activity_date in (select days_to_count.activity_date from days_to_count)
        and started_at >= (select instants.earliest from instants)
        and started_at < (select instants.latest from instants)
    {%- endif %}
),

final as (
    select
        activity_date,
        activity_month,
        activity_year,
        channel,
        interaction_type,
        topic,
        outcome,
        transferred,
        language,
        is_short_abandon,
        is_answered_within_threshold,
        is_acknowledged_within_standard,
        count(*) as interactions,
        sum(queue_seconds) as queue_seconds,
        sum(handle_seconds) as handle_seconds,
        max(delivery_rank) as delivery_rank
    from classified
    group by all
)

select * from final
