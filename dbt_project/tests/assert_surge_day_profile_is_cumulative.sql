-- The surge-day profile never decreases from one clock hour to the next, and at 24:00 it
-- equals the type's count for the whole day in mart_surge_day_top_types.
with

profile as (
    select * from {{ ref('mart_surge_day_profile') }}
),

top_types as (
    select * from {{ ref('mart_surge_day_top_types') }}
),

steps as (
    select
        surge_date,
        sr_type,
        clock_hour,
        cumulative_service_requests
        - lag(cumulative_service_requests) over (
            partition by surge_date, sr_type order by clock_hour
        ) as step
    from profile
),

decreasing as (
    select
        surge_date,
        sr_type,
        clock_hour
    from steps
    where step < 0
),

day_end_mismatch as (
    select
        profile.surge_date,
        profile.sr_type,
        profile.clock_hour
    from profile
    inner join top_types
        on
            top_types.surge_date = profile.surge_date
            and top_types.sr_type = profile.sr_type
    where profile.clock_hour = 24 and profile.cumulative_service_requests <> top_types.service_requests
)

select * from decreasing
union all
select * from day_end_mismatch
