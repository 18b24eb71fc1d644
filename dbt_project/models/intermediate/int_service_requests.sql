-- One row per SR (the latest version wins: macros/latest_delivery.sql), with ward, local
-- periods, time to close and its due date under the service standard (or the source system's
-- own due_at, which decides when given). It keeps the columns the marts and the BIA reports
-- read (every row is written once more here, so each column costs load time at scale); the
-- rest (section, FSA, coordinates, the raw ward text, the streets as delivered, the SR's
-- channel) stays in stg_raw__service_requests.
-- Incremental on DuckDB (macros/engine.sql): a build reads only the deliveries newer than
-- delivery_rank's highest value here, with the earlier versions of the SRs they deliver again
-- (an earlier version with a later updated_at still counts), and the latest version of each of
-- those SRs replaces its row here. Every column is a function of the SR's own row and of
-- reference tables (wards, standards, holidays), which the pipeline fingerprints: when one of
-- those changes, everything is rebuilt.
{{ config(
    materialized=cx311.row_materialization(),
    unique_key='sr_id',
    incremental_strategy='delete+insert',
) }}

with

repeated_ids as (
    select id as sr_id
    from {{ ref('stg_raw__repeated_ids') }}
    where entity = 'service_requests'
),

new_rows as (
    select * from {{ ref('stg_raw__service_requests') }}
    {{- cx311.new_deliveries_only() }}
),

service_requests as (
    select * from new_rows
    {%- if is_incremental() and any_repeated_id('service_requests') %}
    union all
    -- the earlier versions of the SRs delivered again (only a repeated id has one: when the
    -- loader listed none, this part is left out). The staging view is read again, not through
    -- a shared CTE (DuckDB would materialise every row of the view for it), and the ids are one
    -- nested list, repeated ids first (two separate conditions made it read every earlier row)
    select * from {{ ref('stg_raw__service_requests') }}
    where
        delivery_rank <= (select coalesce(max(built.delivery_rank), 0) from {{ this }} as built)
        and sr_id in (
            select repeated_ids.sr_id from repeated_ids
            where repeated_ids.sr_id in (select new_rows.sr_id from new_rows)
        )
    {%- endif %}
),

wards as (
    select * from {{ ref('int_sr_wards') }}
),

standards as (
    select * from {{ ref('int_service_standards') }}
),

business_days as (
    select * from {{ ref('int_business_days') }}
),

latest_delivery as (
    {{ latest_delivery('service_requests', 'repeated_ids', 'sr_id', 'service_requests') }}
),

local_times as (
    select
        *,
        {{ cx311.local_time('created_at') }} as created_at_local,
        {{ cx311.local_time('closed_at') }} as closed_at_local
    from latest_delivery
),

with_periods as (
    select
        local_times.*,
        cast(created_at_local as date) as created_date,
        cast(date_trunc('month', created_at_local) as date) as created_month,
        year(created_at_local) as created_year,
        cast(closed_at_local as date) as closed_date,
        status = 'cancelled' as is_cancelled,
        status = 'closed' and closed_at is not null as is_closed
    from local_times
),

with_due_dates as (
    select
        with_periods.*,
        standards.target_days,
        standards.day_basis,
        case
            when standards.day_basis = 'calendar'
                then with_periods.created_date + standards.target_days
            when standards.day_basis = 'business' then due_day.calendar_date
        end as due_date
    from with_periods
    left join standards on with_periods.sr_type = standards.sr_type
    left join business_days as created_day
        on with_periods.created_date = created_day.calendar_date
    left join business_days as due_day
        on
            due_day.is_business_day
            and due_day.business_day_number = created_day.business_day_number + standards.target_days
),

final as (
    select
        with_due_dates.sr_id,
        with_due_dates.created_at,
        with_due_dates.created_at_local,
        with_due_dates.created_date,
        with_due_dates.created_month,
        with_due_dates.created_year,
        with_due_dates.closed_at,
        with_due_dates.closed_at_local,
        with_due_dates.status,
        with_due_dates.is_cancelled,
        with_due_dates.is_closed,
        with_due_dates.closed_at_available,
        with_due_dates.sr_type,
        with_due_dates.division,
        wards.ward_number,
        coalesce(wards.ward_name, 'Unknown') as ward_name,
        with_due_dates.bia,
        with_due_dates.location,
        case
            when with_due_dates.is_closed
                then ({{ cx311.seconds_between('with_due_dates.created_at', 'with_due_dates.closed_at') }}) / 86400.0
        end as days_to_close,
        with_due_dates.due_date,
        with_due_dates.due_at,
        -- the source system's own due date decides when the row has one; else the standard's
        with_due_dates.due_at is not null or with_due_dates.due_date is not null as has_due_date,
        case
            when with_due_dates.is_closed and with_due_dates.due_at is not null
                then with_due_dates.closed_at <= with_due_dates.due_at
            when with_due_dates.is_closed and with_due_dates.due_date is not null
                then with_due_dates.closed_date <= with_due_dates.due_date
        end as is_on_time,
        with_due_dates.delivery_rank
    from with_due_dates
    left join wards on with_due_dates.ward_raw is not distinct from wards.ward_raw
)

select * from final
