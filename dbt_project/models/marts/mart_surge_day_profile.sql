-- Surge-day profile: for each surge day's 2 most frequent SR types (ties alphabetical), the
-- SRs (not cancelled) created that day before each local clock hour 01:00, 02:00 ... 24:00,
-- cumulative. The local clock hour is read from created_at_local, so on the autumn clock
-- change both 01:xx hours fall before 02:00; clock_hour 16 is the "by 4 p.m." figure.
with

top_types as (
    select
        surge_date,
        type_rank,
        sr_type
    from {{ ref('mart_surge_day_top_types') }}
    where type_rank <= 2
),

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

clock_hours as (
    {{ cx311.integer_series(1, 25, 'clock_hour') }}
),

hourly as (
    select
        top_types.surge_date,
        top_types.sr_type,
        hour(service_requests.created_at_local) as created_hour,
        count(*) as service_requests
    from top_types
    inner join service_requests
        on
            service_requests.created_date = top_types.surge_date
            and service_requests.sr_type = top_types.sr_type
    where not service_requests.is_cancelled
    group by all
),

grid as (
    select
        top_types.surge_date,
        top_types.type_rank,
        top_types.sr_type,
        clock_hours.clock_hour
    from top_types
    cross join clock_hours
),

final as (
    select
        grid.surge_date,
        grid.type_rank,
        grid.sr_type,
        grid.clock_hour,
        coalesce(sum(hourly.service_requests), 0) as cumulative_service_requests
    from grid
    left join hourly
        on
            hourly.surge_date = grid.surge_date
            and hourly.sr_type = grid.sr_type
            and hourly.created_hour < grid.clock_hour
    group by all
)

select * from final
